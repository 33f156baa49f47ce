# The drop-in install: libevent 2.1.12's names for evasio, so that a program's
# own build finds evasio where it looks for libevent when pointed at evasio's
# prefix (PKG_CONFIG_PATH, -I/-L, CMAKE_PREFIX_PATH):
#   lib/libevent{,_core,_extra,_pthreads}.so and .a   links to libevasio
#   lib/pkgconfig/libevent{,_core,_extra,_pthreads}.pc
#   lib/cmake/libevent/LibeventConfig.cmake           libevent::core, ::extra, ::pthreads
#   lib/libevent_openssl.so and .a, lib/pkgconfig/libevent_openssl.pc,
#   libevent::openssl                                 links to libevasio_openssl
#                                                     (when built with OpenSSL)
# A part evasio does not provide (libevent_openssl when built without OpenSSL)
# is installed as a refusal: the .pc requires a module that does not exist and
# the library names are linker scripts naming a library that does not exist,
# so that neither pkg-config nor the linker falls through to a system
# libevent's copy.
# Included from the top-level CMakeLists.txt after the evasio targets.

set(EVASIO_LIBEVENT_PARTS event event_core event_extra event_pthreads)
if(EVASIO_HAVE_OPENSSL)
  set(EVASIO_LIBEVENT_REFUSED)
else()
  set(EVASIO_LIBEVENT_REFUSED event_openssl)
endif()
set(_names ${PROJECT_BINARY_DIR}/libevent-names)

# pkg-config
foreach(part ${EVASIO_LIBEVENT_PARTS})
  set(PC_NAME lib${part})
  set(PC_LIB ${part})
  set(PC_REQUIRES "")
  if(part STREQUAL "event_pthreads")
    set(PC_REQUIRES libevent)  # as libevent's own
  endif()
  set(PC_LIBS_PRIVATE "-lcares -lstdc++ -lpthread")
  configure_file(${PROJECT_SOURCE_DIR}/cmake/libevent.pc.in ${_names}/lib${part}.pc @ONLY)
endforeach()
if(EVASIO_HAVE_OPENSSL)
  # As libevent's own: requires libevent; OpenSSL for static links.
  set(PC_NAME libevent_openssl)
  set(PC_LIB event_openssl)
  set(PC_REQUIRES libevent)
  set(PC_LIBS_PRIVATE "-lssl -lcrypto -lcares -lstdc++ -lpthread")
  configure_file(${PROJECT_SOURCE_DIR}/cmake/libevent.pc.in ${_names}/libevent_openssl.pc @ONLY)
  install(FILES ${_names}/libevent_openssl.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
  install(CODE "
    set(_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}\")
    file(CREATE_LINK libevasio_openssl.so \"\${_dir}/libevent_openssl.so\" SYMBOLIC)
    file(CREATE_LINK libevasio_openssl.a \"\${_dir}/libevent_openssl.a\" SYMBOLIC)
    message(STATUS \"Installing: \${_dir}/libevent_openssl.so, .a -> libevasio_openssl\")
  ")
endif()
foreach(part ${EVASIO_LIBEVENT_REFUSED})
  set(PC_NAME lib${part})
  set(PC_WHAT "TLS bufferevents, event2/bufferevent_ssl.h")
  configure_file(${PROJECT_SOURCE_DIR}/cmake/libevent_refused.pc.in ${_names}/lib${part}.pc @ONLY)
  file(WRITE ${_names}/lib${part}.ld
    "/* evasio does not provide lib${part} yet (${PC_WHAT}): linking -l${part} fails on purpose. */\n"
    "INPUT(-levasio_does_not_provide_lib${part})\n")
  install(FILES ${_names}/lib${part}.ld DESTINATION ${CMAKE_INSTALL_LIBDIR} RENAME lib${part}.so)
  install(FILES ${_names}/lib${part}.ld DESTINATION ${CMAKE_INSTALL_LIBDIR} RENAME lib${part}.a)
endforeach()
foreach(part ${EVASIO_LIBEVENT_PARTS} ${EVASIO_LIBEVENT_REFUSED})
  install(FILES ${_names}/lib${part}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

# Library names: relative symbolic links beside libevasio, made at install
# time (DESTDIR and --prefix are known only then).
install(CODE "
  set(_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}\")
  foreach(_part ${EVASIO_LIBEVENT_PARTS})
    file(CREATE_LINK libevasio.so \"\${_dir}/lib\${_part}.so\" SYMBOLIC)
    file(CREATE_LINK libevasio.a \"\${_dir}/lib\${_part}.a\" SYMBOLIC)
    message(STATUS \"Installing: \${_dir}/lib\${_part}.so, .a -> libevasio\")
  endforeach()
")

# CMake package
set(_libevent_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/libevent)
configure_file(${PROJECT_SOURCE_DIR}/cmake/LibeventConfig.cmake.in ${_names}/LibeventConfig.cmake @ONLY)
write_basic_package_version_file(${_names}/LibeventConfigVersion.cmake
  VERSION ${EVASIO_LIBEVENT_API} COMPATIBILITY AnyNewerVersion)  # as libevent's own
install(FILES ${_names}/LibeventConfig.cmake ${_names}/LibeventConfigVersion.cmake
  DESTINATION ${_libevent_cmake_dir})
