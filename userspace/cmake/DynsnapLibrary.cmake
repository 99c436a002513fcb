# SPDX-License-Identifier: GPL-2.0
# The helpers of the per-directory libraries of userspace/src.

get_filename_component(DYNSNAP_SRC_DIR ${CMAKE_CURRENT_LIST_DIR}/../src ABSOLUTE)

# dynsnap_library(NAME): the static library dynsnap_NAME, also named
# dynsnap::NAME, of the .cc files of the calling directory; its headers are
# included as "dir/x.h" from src/. The x_test.cc files beside them go into
# the one unit test binary (tests/unit), which reads them from the global
# property DYNSNAP_UNIT_TEST_SOURCES, not into the library. The caller
# states the dependencies with target_link_libraries().
function(dynsnap_library name)
  file(GLOB _sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  file(GLOB _tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
  if(_tests)
    list(REMOVE_ITEM _sources ${_tests})
  endif()
  add_library(dynsnap_${name} STATIC ${_sources})
  add_library(dynsnap::${name} ALIAS dynsnap_${name})
  target_include_directories(dynsnap_${name} PUBLIC ${DYNSNAP_SRC_DIR})
  set_property(GLOBAL APPEND PROPERTY DYNSNAP_UNIT_TEST_SOURCES ${_tests})
endfunction()

# The target an alias names, else the name itself.
function(_dynsnap_real_name out name)
  if(TARGET ${name})
    get_target_property(_aliased ${name} ALIASED_TARGET)
    if(_aliased)
      set(name ${_aliased})
    endif()
  endif()
  set(${out} ${name} PARENT_SCOPE)
endfunction()

# dynsnap_check_layering(TARGET FORBID DEP...): stop the configuration when
# TARGET links any DEP, itself or through the libraries it links, PUBLIC,
# PRIVATE or INTERFACE. Call it once every library is defined.
function(dynsnap_check_layering target)
  cmake_parse_arguments(PARSE_ARGV 1 _arg "" "" "FORBID")
  if(NOT TARGET ${target})
    message(FATAL_ERROR "dynsnap_check_layering: no target ${target}")
  endif()
  set(_forbidden "")
  foreach(_dep IN LISTS _arg_FORBID)
    _dynsnap_real_name(_dep ${_dep})
    list(APPEND _forbidden ${_dep})
  endforeach()
  _dynsnap_real_name(_start ${target})
  set(_seen ${_start})
  set(_queue ${_start})
  while(_queue)
    list(POP_FRONT _queue _cur)
    set(_items "")
    foreach(_prop LINK_LIBRARIES INTERFACE_LINK_LIBRARIES)
      get_target_property(_value ${_cur} ${_prop})
      if(_value)
        list(APPEND _items ${_value})
      endif()
    endforeach()
    foreach(_item IN LISTS _items)
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" _item "${_item}")
      _dynsnap_real_name(_item ${_item})
      if(_item IN_LIST _forbidden)
        message(FATAL_ERROR "layering: ${target} must not link ${_item}, "
          "but ${_cur} links it (see userspace/CMakeLists.txt)")
      endif()
      if(TARGET ${_item} AND NOT _item IN_LIST _seen)
        list(APPEND _seen ${_item})
        list(APPEND _queue ${_item})
      endif()
    endforeach()
  endwhile()
endfunction()
