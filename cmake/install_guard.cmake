# Runs at install time, before anything is copied (see the top-level
# CMakeLists.txt). evasio's headers and drop-in names are libevent's own
# (event2/event.h, libevent.so, libevent.pc, LibeventConfig.cmake), so:
#  - a system prefix (/usr, /usr/local) would shadow the system's libevent for
#    every program built there: refused unless EVASIO_ALLOW_SYSTEM_PREFIX=ON;
#  - a prefix that already holds a libevent that is not evasio would mix the
#    two in one program: refused always.
# Expects EVASIO_ALLOW_SYSTEM_PREFIX and EVASIO_LIBDIR to be set.
set(_root "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
get_filename_component(_prefix "${CMAKE_INSTALL_PREFIX}" ABSOLUTE)
if(_prefix MATCHES "^/usr(/local)?/?$" AND NOT EVASIO_ALLOW_SYSTEM_PREFIX)
  message(FATAL_ERROR
    "evasio: not installing into ${_prefix}: its headers and libraries carry libevent's names and would "
    "shadow the system's libevent for every program built there. Install into a prefix of its own "
    "(cmake --install <build> --prefix /opt/evasio) and point a program's build at it, or configure "
    "with -DEVASIO_ALLOW_SYSTEM_PREFIX=ON to do it anyway.")
endif()
set(_config "${_root}/include/event2/event-config.h")
if(EXISTS "${_config}")
  file(STRINGS "${_config}" _ours REGEX "^/\\* evasio:")
  if(NOT _ours)
    message(FATAL_ERROR "evasio: ${_root} already holds libevent's headers (${_config}): evasio would mix with them. Install into another prefix.")
  endif()
endif()
foreach(_lib libevent.so libevent_core.so libevent.a libevent_core.a)
  set(_f "${_root}/${EVASIO_LIBDIR}/${_lib}")
  if(IS_SYMLINK "${_f}")
    file(READ_SYMLINK "${_f}" _to)
  elseif(EXISTS "${_f}")
    set(_to "${_f}")
  else()
    continue()
  endif()
  if(NOT _to MATCHES "^libevasio\\.")
    message(FATAL_ERROR "evasio: ${_f} is another libevent: evasio would mix with it. Install into another prefix.")
  endif()
endforeach()
