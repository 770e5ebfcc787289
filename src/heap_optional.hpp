// heap_optional.hpp — an optional whose value lives on the heap.
//
// For a rarely set member of a type foster holds once per service (a
// healthcheck, a schedule, credentials, an overlapping restart's side run):
// std::optional<T> always takes sizeof(T), set or not, ten thousand times
// over; HeapOptional<T> takes one pointer, and the value's size only when it
// is set. Value semantics as std::optional's (a copy copies the value, ==
// compares values), and the same member names, so code reading the member
// does not change.
#pragma once

#include <concepts>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace foster {

template <class T>
class HeapOptional {
public:
    using value_type = T;

    HeapOptional() noexcept = default;
    HeapOptional(std::nullopt_t) noexcept {}
    HeapOptional(const HeapOptional& other) : value_(other ? std::make_unique<T>(*other) : nullptr) {}
    HeapOptional(HeapOptional&&) noexcept = default;
    HeapOptional(const std::optional<T>& other) : value_(other ? std::make_unique<T>(*other) : nullptr) {}
    HeapOptional(std::optional<T>&& other)
        : value_(other ? std::make_unique<T>(std::move(*other)) : nullptr) {}
    template <class U = T>
        requires std::constructible_from<T, U&&> && (!std::same_as<std::remove_cvref_t<U>, HeapOptional>) &&
                 (!std::same_as<std::remove_cvref_t<U>, std::optional<T>>) &&
                 (!std::same_as<std::remove_cvref_t<U>, std::nullopt_t>)
    HeapOptional(U&& value) : value_(std::make_unique<T>(std::forward<U>(value))) {}

    HeapOptional& operator=(const HeapOptional& other) {
        if (this != &other) *this = other ? HeapOptional(*other) : HeapOptional();
        return *this;
    }
    HeapOptional& operator=(HeapOptional&&) noexcept = default;
    HeapOptional& operator=(std::nullopt_t) noexcept {
        value_.reset();
        return *this;
    }
    template <class U = T>
        requires std::constructible_from<T, U&&> && (!std::same_as<std::remove_cvref_t<U>, HeapOptional>) &&
                 (!std::same_as<std::remove_cvref_t<U>, std::nullopt_t>)
    HeapOptional& operator=(U&& value) {
        if constexpr (std::same_as<std::remove_cvref_t<U>, std::optional<T>>) {
            if (!value) value_.reset();
            else emplace(*std::forward<U>(value));
        } else {
            emplace(std::forward<U>(value));
        }
        return *this;
    }

    template <class... Args>
    T& emplace(Args&&... args) {
        value_ = std::make_unique<T>(std::forward<Args>(args)...);
        return *value_;
    }
    void reset() noexcept { value_.reset(); }

    [[nodiscard]] bool has_value() const noexcept { return value_ != nullptr; }
    explicit operator bool() const noexcept { return has_value(); }
    T& operator*() & noexcept { return *value_; }
    const T& operator*() const& noexcept { return *value_; }
    T* operator->() noexcept { return value_.get(); }
    const T* operator->() const noexcept { return value_.get(); }
    T& value() & {
        if (!value_) throw std::bad_optional_access();
        return *value_;
    }
    const T& value() const& {
        if (!value_) throw std::bad_optional_access();
        return *value_;
    }
    template <class U>
    T value_or(U&& fallback) const {
        return value_ ? *value_ : static_cast<T>(std::forward<U>(fallback));
    }

    // A copy as a std::optional, for the places that keep one of their own.
    operator std::optional<T>() const { return value_ ? std::optional<T>(*value_) : std::nullopt; }

    friend bool operator==(const HeapOptional& a, const HeapOptional& b) {
        if (a.has_value() != b.has_value()) return false;
        return !a.has_value() || *a == *b;
    }
    friend bool operator==(const HeapOptional& a, std::nullopt_t) noexcept { return !a.has_value(); }
    friend bool operator==(const HeapOptional& a, const std::optional<T>& b) {
        if (a.has_value() != b.has_value()) return false;
        return !a.has_value() || *a == *b;
    }
    // With a value, as std::optional: equal when set and equal to it.
    template <class U>
        requires(!std::same_as<U, HeapOptional> && !std::same_as<U, std::optional<T>> &&
                 !std::same_as<U, std::nullopt_t>)
    friend bool operator==(const HeapOptional& a, const U& value) {
        return a.has_value() && *a == value;
    }

private:
    std::unique_ptr<T> value_;
};

}  // namespace foster
