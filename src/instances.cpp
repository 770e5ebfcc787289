// instances.cpp — see instances.hpp.
#include "instances.hpp"

#include "config.hpp"

namespace foster {

std::string instance_name(std::string_view base, int instance) {
    return std::string(base) + "@" + std::to_string(instance);
}

std::string expand_instance(std::string_view text, int instance) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 1 < text.size() && text[i + 1] == 'i') {
            out += std::to_string(instance);
            ++i;
        } else if (text[i] == '%' && i + 1 < text.size() && text[i + 1] == '%') {
            out += '%';
            ++i;
        } else {
            out += text[i];
        }
    }
    return out;
}

bool answers_to(const ServiceConfig& config, std::string_view name) {
    return config.name == name || (!config.instance_of.empty() && config.instance_of == name);
}

}  // namespace foster
