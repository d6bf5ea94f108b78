# The one object every "compiled" kernel of a ttnn mock-cluster dry run is linked from.
# Mock devices never execute kernels; ttnn's host-side ELF loader only has to accept the file: a text segment whose
# entry is its first address, a .data segment, and at least one relocation section (kept by --emit-relocs), which
# the %hi/%lo pair below provides. norelax keeps the linker from folding that pair away.
    .option norelax
    .section .start, "ax", @progbits
    .globl _start
_start:
    lui   a0, %hi(__stub_data)
    addi  a0, a0, %lo(__stub_data)
    ret

    .data
    .globl __stub_data
__stub_data:
    .word 0
