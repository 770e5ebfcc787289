// The files a root foster refuses (docs/SECURITY.md, "Files foster refuses").
// Owners are changed with chown, so these need root; they skip without it.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "file_trust.hpp"

namespace {

// Any uid that is neither root nor ours: no passwd entry needed for chown.
constexpr uid_t stranger = 43210;

struct TempDir {
    std::string path;
    TempDir() {
        char name[] = "/tmp/foster-trust-XXXXXX";
        REQUIRE(mkdtemp(name) != nullptr);
        path = name;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name, mode_t mode = 0644) const {
        const std::string p = path + "/" + name;
        std::ofstream(p) << "[services.a]\ncommand = [\"true\"]\n";
        chmod(p.c_str(), mode);
        return p;
    }
};

bool contains(const std::optional<std::string>& why, const std::string& part) {
    return why && why->find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a root foster trusts only files root can change") {
    if (geteuid() != 0) return;  // chown needs root
    TempDir dir;

    SUBCASE("a root-owned 0644 file is trusted") {
        CHECK_FALSE(foster::why_untrusted(dir.file("good.toml"), 0));
        CHECK(foster::load_trusted_config(dir.file("good.toml")).config);
    }
    SUBCASE("writable by others") {
        const auto p = dir.file("o.toml", 0646);
        CHECK(contains(foster::why_untrusted(p, 0), p + " is writable by others (mode 0646)"));
        const auto loaded = foster::load_trusted_config(p);
        CHECK_FALSE(loaded.config);
        REQUIRE(loaded.errors.size() == 1);
        CHECK(loaded.errors[0].to_string().rfind(p + ": not trusted: ", 0) == 0);
    }
    SUBCASE("writable by its group") {
        CHECK(contains(foster::why_untrusted(dir.file("g.toml", 0664), 0), "writable by its group (mode 0664)"));
    }
    SUBCASE("owned by another user") {
        const auto p = dir.file("u.toml");
        REQUIRE(chown(p.c_str(), stranger, 0) == 0);
        CHECK(contains(foster::why_untrusted(p, 0), "is owned by uid 43210, not root"));
        // Trusted by that user's own foster.
        CHECK_FALSE(foster::why_untrusted(p, stranger));
        CHECK_FALSE(foster::load_trusted_config(p).config);
    }
    SUBCASE("a symlink owned by another user, to a good file") {
        const auto target = dir.file("t.toml");
        const auto link = dir.path + "/link.toml";
        REQUIRE(symlink("t.toml", link.c_str()) == 0);
        CHECK_FALSE(foster::why_untrusted(link, 0));  // root's link: the target decides
        REQUIRE(lchown(link.c_str(), stranger, 0) == 0);
        CHECK(contains(foster::why_untrusted(link, 0), "symlink " + link + " is owned by uid 43210"));
    }
    SUBCASE("a root symlink to an untrusted file, through a second link") {
        const auto target = dir.file("bad.toml", 0666);
        REQUIRE(symlink(target.c_str(), (dir.path + "/one").c_str()) == 0);
        REQUIRE(symlink("one", (dir.path + "/two").c_str()) == 0);
        CHECK(contains(foster::why_untrusted(dir.path + "/two", 0),
                       target + " (reached through " + dir.path + "/two) is writable by others"));
    }
    SUBCASE("a missing file is left to the loader") {
        CHECK_FALSE(foster::why_untrusted(dir.path + "/missing", 0));
        const auto loaded = foster::load_trusted_config(dir.path + "/missing");
        REQUIRE(loaded.errors.size() == 1);
        CHECK(loaded.errors[0].message.rfind("cannot read", 0) == 0);
    }
    SUBCASE("a control socket directory") {
        CHECK_FALSE(foster::why_untrusted_socket_directory(dir.path + "/ctl.sock"));
        REQUIRE(chmod(dir.path.c_str(), 0777) == 0);
        CHECK(contains(foster::why_untrusted_socket_directory(dir.path + "/ctl.sock"),
                       "directory " + dir.path + " is writable by others (mode 0777)"));
        REQUIRE(chmod(dir.path.c_str(), 01777) == 0);  // like /tmp: others cannot replace root's socket
        CHECK_FALSE(foster::why_untrusted_socket_directory(dir.path + "/ctl.sock"));
        CHECK(contains(foster::why_untrusted(dir.file("s.toml", 0666), 0), "writable by others"));  // files: never
        REQUIRE(chmod(dir.path.c_str(), 0700) == 0);
        REQUIRE(chown(dir.path.c_str(), stranger, 0) == 0);
        CHECK(contains(foster::why_untrusted_socket_directory(dir.path + "/ctl.sock"), "owned by uid 43210"));
    }
}
