# headers_names: every public header name of libevent 2.1.12 exists in
# evasio's include tree, and including it from an evasio build takes evasio's
# file, never a system libevent's: either it compiles with only evasio's
# libevent headers read, or it stops with evasio's own "#error evasio does not
# provide <name>". Run with real libevent's headers installed (libevent-dev),
# this proves that none of them can be picked up.
#   cmake -DCC=<c compiler> -DINCDIR=<compat/include> -DWORKDIR=<dir> -P names.cmake
foreach(v CC INCDIR WORKDIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "names.cmake: -D${v}=... is required")
  endif()
endforeach()

# libevent 2.1.12's installed headers (include/ and include/event2/ of its
# source, plus the generated event2/event-config.h).
set(names
  event.h evdns.h evhttp.h evrpc.h evutil.h
  event2/buffer.h event2/buffer_compat.h event2/bufferevent.h event2/bufferevent_compat.h
  event2/bufferevent_ssl.h event2/bufferevent_struct.h event2/dns.h event2/dns_compat.h
  event2/dns_struct.h event2/event.h event2/event_compat.h event2/event_struct.h
  event2/event-config.h event2/http.h event2/http_compat.h event2/http_struct.h
  event2/keyvalq_struct.h event2/listener.h event2/rpc.h event2/rpc_compat.h
  event2/rpc_struct.h event2/tag.h event2/tag_compat.h event2/thread.h event2/util.h
  event2/visibility.h)
# A newer libevent-dev on this machine may have more: they must exist too.
file(GLOB system_event2 RELATIVE /usr/include /usr/include/event2/*.h)
list(APPEND names ${system_event2})
list(REMOVE_DUPLICATES names)

file(MAKE_DIRECTORY ${WORKDIR})
get_filename_component(incdir_real ${INCDIR} REALPATH)
set(failed "")
set(provided 0)
set(refused 0)
foreach(name ${names})
  if(NOT EXISTS ${INCDIR}/${name})
    list(APPEND failed "${name}: missing from ${INCDIR}")
    continue()
  endif()
  string(MAKE_C_IDENTIFIER ${name} id)
  set(src ${WORKDIR}/${id}.c)
  file(WRITE ${src} "#include <${name}>\nint main(void) { return 0; }\n")
  execute_process(COMMAND ${CC} -std=c99 -fsyntax-only -H -I${INCDIR} ${src}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  # -H: one line per header read, ". path", ".. path", ...
  string(REGEX MATCHALL "(^|\n)\\.+ [^\n]*" reads "${err}")
  foreach(line ${reads})
    string(REGEX REPLACE "^\n?\\.+ " "" path "${line}")
    if(path MATCHES "/event2/[^/]+\\.h$" OR path MATCHES "/(event|evdns|evhttp|evrpc|evutil)\\.h$")
      get_filename_component(dir ${path} DIRECTORY)
      get_filename_component(dir ${dir} REALPATH)
      if(NOT dir STREQUAL incdir_real AND NOT dir STREQUAL "${incdir_real}/event2")
        list(APPEND failed "${name}: read ${path}, not evasio's")
      endif()
    endif()
  endforeach()
  if(rc EQUAL 0)
    math(EXPR provided "${provided} + 1")
  elseif(err MATCHES "evasio does not provide <")
    math(EXPR refused "${refused} + 1")
  else()
    list(APPEND failed "${name}: fails without evasio's refusal:\n${err}")
  endif()
endforeach()

if(failed)
  string(REPLACE ";" "\n" failed "${failed}")
  message(FATAL_ERROR "headers_names: FAILED\n${failed}")
endif()
list(LENGTH names n)
message("headers_names: ${n} libevent header names, ${provided} provided by evasio, ${refused} refused by evasio's #error, none taken from elsewhere")
