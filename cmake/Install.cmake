# cmake --install: everything a user of foster needs, in the places GNUInstallDirs
# and the system's own tools name. DESTDIR works for every file (packaging,
# tests/install_test.sh); nothing here runs a command on the target system.
include(GNUInstallDirs)

install(TARGETS foster fosterctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET foster-static)  # the single static file for images without glibc
  install(TARGETS foster-static RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
# The full build the static foster hands the service runner over to; it looks
# for it at ${CMAKE_INSTALL_FULL_LIBEXECDIR}/foster/foster (src/full_build.hpp).
if(TARGET foster_full)
  install(TARGETS foster_full RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/foster)
endif()

# FOSTER_MAN_PAGES comes from cmake/Manpages.cmake (empty without scdoc).
foreach(page IN LISTS FOSTER_MAN_PAGES)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
if(TARGET foster-static AND FOSTER_MAN_LINKS)
  install(FILES ${FOSTER_MAN_LINKS} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# Directories owned by other packages (systemd, bash-completion) are asked of
# them through pkg-config, but only for the prefix /usr, which is theirs: a
# `cmake --install` into /usr/local or a home directory must not write into
# /lib/systemd/system. Elsewhere the same relative layout under the prefix is
# used, which systemd (/usr/local/lib/systemd/system) and bash-completion
# ($XDG_DATA_DIRS/bash-completion/completions) also search.
find_package(PkgConfig QUIET)
function(foster_system_dir out package variable fallback)
  set(dir ${fallback})
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr" AND PKG_CONFIG_FOUND)
    pkg_get_variable(from_package ${package} ${variable})
    if(from_package)
      set(dir ${from_package})
    endif()
  endif()
  set(${out} ${dir} PARENT_SCOPE)
endfunction()

foster_system_dir(default_unit_dir systemd systemdsystemunitdir lib/systemd/system)
set(FOSTER_SYSTEMD_UNIT_DIR ${default_unit_dir} CACHE STRING "Where the systemd unit files go")
file(GLOB FOSTER_UNIT_FILES ${CMAKE_CURRENT_SOURCE_DIR}/systemd/*.service
                            ${CMAKE_CURRENT_SOURCE_DIR}/systemd/*.socket)
if(FOSTER_UNIT_FILES)
  install(FILES ${FOSTER_UNIT_FILES} DESTINATION ${FOSTER_SYSTEMD_UNIT_DIR})
endif()

foster_system_dir(default_completion_dir bash-completion completionsdir
                  ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
set(FOSTER_BASH_COMPLETION_DIR ${default_completion_dir} CACHE STRING "Where the bash completions go")
file(GLOB FOSTER_COMPLETIONS ${CMAKE_CURRENT_SOURCE_DIR}/packaging/completions/*)
if(FOSTER_COMPLETIONS)
  install(FILES ${FOSTER_COMPLETIONS} DESTINATION ${FOSTER_BASH_COMPLETION_DIR})
endif()

# The default services file: valid, no services, commented examples.
install(FILES config/foster.toml DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/foster)

# The examples keep the layout of the source tree, so that the stack runs as
# the README says: cd .../examples && foster -c config/example.toml
install(FILES config/example.toml config/reference.toml config/socket-activation.toml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/config)
# Configurations translated from other supervisors, the originals beside them.
file(GLOB FOSTER_TRANSLATED_EXAMPLES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/config/examples/*)
install(FILES ${FOSTER_TRANSLATED_EXAMPLES} DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/config/examples)
install(PROGRAMS config/example/db.py config/example/migrate.sh config/example/worker.sh
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/config/example)

if(FOSTER_TESTS)
  add_test(NAME install COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/install_test.sh
           ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_INSTALL_PREFIX})
endif()
