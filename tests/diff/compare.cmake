# Runs the oracle (real libevent) and candidate (evasio) builds of one
# transcript program (NAME_diff.c) and fails when their stdouts differ.
#   cmake -DNAME=<name> -DORACLE=<exe> -DCANDIDATE=<exe> -DWORKDIR=<dir> -P compare.cmake
foreach(v NAME ORACLE CANDIDATE WORKDIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "compare.cmake: -D${v}=... is required")
  endif()
endforeach()

set(out_oracle ${WORKDIR}/transcript_libevent.txt)
set(out_candidate ${WORKDIR}/transcript_evasio.txt)

execute_process(COMMAND ${ORACLE}
  OUTPUT_FILE ${out_oracle} ERROR_VARIABLE err_oracle
  RESULT_VARIABLE rc_oracle TIMEOUT 180)
execute_process(COMMAND ${CANDIDATE}
  OUTPUT_FILE ${out_candidate} ERROR_VARIABLE err_candidate
  RESULT_VARIABLE rc_candidate TIMEOUT 180)

set(failed FALSE)
if(NOT rc_oracle STREQUAL "0")
  message("libevent transcript run failed: ${rc_oracle}\n${err_oracle}")
  set(failed TRUE)
endif()
if(NOT rc_candidate STREQUAL "0")
  message("evasio transcript run failed: ${rc_candidate}\n${err_candidate}")
  set(failed TRUE)
endif()

execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files
  ${out_oracle} ${out_candidate} RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  set(failed TRUE)
  find_program(DIFF_EXE diff)
  message("transcripts differ (--- libevent, +++ evasio):")
  if(DIFF_EXE)
    execute_process(COMMAND ${DIFF_EXE} -u
      --label libevent ${out_oracle} --label evasio ${out_candidate}
      OUTPUT_VARIABLE udiff)
    message("${udiff}")
  else()
    file(READ ${out_oracle} a)
    file(READ ${out_candidate} b)
    message("--- libevent\n${a}\n+++ evasio\n${b}")
  endif()
endif()

if(failed)
  message(FATAL_ERROR "${NAME}_differential: FAILED")
endif()
file(STRINGS ${out_oracle} lines)
list(LENGTH lines n)
message("${NAME}_differential: ${n} transcript lines identical")
