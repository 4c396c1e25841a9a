# SPDX-License-Identifier: BSD-2-Clause
#
# prov_gzip(TARGET SRC OUT): OUT is SRC compressed with `gzip -9n` (best,
# no name or time stamp: the same bytes on every build, as Debian wants
# for man pages and changelogs), made by the ALL target TARGET.
find_program(GZIP gzip REQUIRED)
function(prov_gzip target src out)
	add_custom_command(OUTPUT ${out}
	    COMMAND sh -c "'${GZIP}' -9n -c \"$0\" >\"$1.tmp\" && mv \"$1.tmp\" \"$1\""
	        ${src} ${out}
	    DEPENDS ${src}
	    COMMENT "gzip -9n ${src}"
	    VERBATIM)
	add_custom_target(${target} ALL DEPENDS ${out})
endfunction()
