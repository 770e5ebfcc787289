# The man pages (docs/man/*.scd, the reference) turned into roff with scdoc at
# build time. scdoc is a packaging tool, not a compiler: a machine without it
# still builds foster, only without man pages (and says so).
set(FOSTER_MAN_SOURCES foster.1 fosterctl.1 foster.toml.5)
set(FOSTER_MAN_DIR ${CMAKE_CURRENT_BINARY_DIR}/man)
set(FOSTER_MAN_PAGES "")
set(FOSTER_MAN_LINKS "")

find_program(FOSTER_SCDOC scdoc)
if(NOT FOSTER_SCDOC)
  message(STATUS "scdoc not found (apt-get install scdoc): the man pages are not built")
  return()
endif()

file(MAKE_DIRECTORY ${FOSTER_MAN_DIR})
foreach(page IN LISTS FOSTER_MAN_SOURCES)
  set(source ${CMAKE_CURRENT_SOURCE_DIR}/docs/man/${page}.scd)
  set(output ${FOSTER_MAN_DIR}/${page})
  add_custom_command(OUTPUT ${output}
    COMMAND sh -c "\"$1\" < \"$2\" > \"$3\"" scdoc ${FOSTER_SCDOC} ${source} ${output}
    DEPENDS ${source}
    COMMENT "Generating man page ${page}"
    VERBATIM)
  list(APPEND FOSTER_MAN_PAGES ${output})
endforeach()
# foster-static is documented in foster(1): its page is a link to that one.
file(WRITE ${FOSTER_MAN_DIR}/foster-static.1 ".so man1/foster.1\n")
set(FOSTER_MAN_LINKS ${FOSTER_MAN_DIR}/foster-static.1)
add_custom_target(man ALL DEPENDS ${FOSTER_MAN_PAGES})

# Lint: groff with every warning on must say nothing about any page (mandoc
# too, when installed; see tests/man_lint.sh).
if(FOSTER_TESTS)
  add_test(NAME man_lint COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/tests/man_lint.sh ${FOSTER_MAN_PAGES})
endif()
