# hps_module(NAME DIR [USES mod ...] [LIBS lib ...])
#
# Declares module NAME: an OBJECT library of DIR/*.c. Its headers are reachable
# as "NAME/header.h" only from modules that list it in USES (through a folder in
# the build tree holding one link, NAME -> DIR), so a wrong-way include fails to
# compile: the build enforces the module graph. The repository root is on no
# include path; the public headers (include/) and the generated version header
# are on every module's. LIBS are external libraries the module's code uses
# (their include paths and definitions).
function(hps_module name dir)
  cmake_parse_arguments(M "" "" "USES;LIBS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${dir}/*.c)
  add_library(hps_${name} OBJECT ${srcs})
  set(inc ${CMAKE_BINARY_DIR}/modules/${name})
  file(MAKE_DIRECTORY ${inc})
  if(NOT EXISTS ${inc}/${name})
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/${dir} ${inc}/${name} SYMBOLIC)
  endif()
  target_include_directories(hps_${name} PUBLIC ${inc})
  target_link_libraries(hps_${name} PUBLIC hps_base)
  foreach(dep ${M_USES})
    target_link_libraries(hps_${name} PUBLIC hps_${dep})
  endforeach()
  foreach(lib ${M_LIBS})
    target_link_libraries(hps_${name} PUBLIC ${lib})
  endforeach()
  set_property(GLOBAL APPEND PROPERTY HPS_MODULES hps_${name})
endfunction()
