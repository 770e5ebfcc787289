// lazy_default.hpp — a value that takes one pointer while it is the default.
//
// For a group of settings most services leave alone (hooks, process limits,
// output targets): ServiceConfig holds one per service, ten thousand of them
// at times, and a group nobody set is T{} anyway. LazyDefault<T> reads as
// T{} until edit() makes a copy of its own on the heap. Equality is the
// value's: a group set back to its defaults equals one never set (a reload
// compares configs with it).
#pragma once

#include <memory>

namespace foster {

template <class T>
class LazyDefault {
public:
    LazyDefault() noexcept = default;
    LazyDefault(const T& value) : value_(std::make_unique<T>(value)) {}
    LazyDefault(const LazyDefault& other) : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
    LazyDefault(LazyDefault&&) noexcept = default;
    LazyDefault& operator=(const LazyDefault& other) {
        if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
        return *this;
    }
    LazyDefault& operator=(LazyDefault&&) noexcept = default;

    // Reading never allocates: T{} when nothing was set.
    const T& operator*() const noexcept { return value_ ? *value_ : fallback(); }
    const T* operator->() const noexcept { return &**this; }
    // Whether edit() made a value of its own (which may still equal T{}).
    [[nodiscard]] bool edited() const noexcept { return value_ != nullptr; }
    // The value to change, made (as T{}) on first use.
    T& edit() {
        if (!value_) value_ = std::make_unique<T>();
        return *value_;
    }

    friend bool operator==(const LazyDefault& a, const LazyDefault& b) { return *a == *b; }

private:
    static const T& fallback() noexcept {
        static const T none{};
        return none;
    }
    std::unique_ptr<T> value_;
};

}  // namespace foster
