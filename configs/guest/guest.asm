; coldmark's bundled marker guest: a 512-byte boot sector (see README.md beside this file).
;
; It marks three moments on port 0xf4 and leaves QEMU through isa-debug-exit at 0x501:
;   0x10  real_mode  first instruction after the firmware jumps to 0x7c00
;   0x20  long_mode  first instruction after the switch to 64-bit long mode
;   0x30  work_done  after WORK iterations of a small hash loop in long mode
; then writes EXIT_VALUE to port 0x501, so QEMU exits with status (EXIT_VALUE << 1) | 1 = 33.
;
; Build-time variants (nasm -D...), used by the fault and regression tests:
;   WORK=n         iterations of the long-mode loop (default 20000)
;   HANG           never writes work_done nor exits: the harness must time out
;   OUT_OF_ORDER   writes work_done before long_mode
;   CRASH          triple-faults right after real_mode (QEMU resets; with -no-reboot it exits 0)
;   POST=n         writes port 0x80 (POST) n times in long mode before work_done: what
;                  run --profile and compare must name (issue 28)
;   SERIAL         right after each marker, also prints a line on COM1 ("R", "L", "W"): the
;                  console marker source's timing error is measured against the port markers

%ifndef WORK
%define WORK 20000
%endif
%define MARKER_PORT 0xf4
%define EXIT_PORT   0x501
%define EXIT_VALUE  0x10

; a line on the serial console (COM1's transmit register sends at once under qemu)
%macro SERIAL_LINE 1
%ifdef SERIAL
        mov dx, 0x3f8
        mov al, %1
        out dx, al
        mov al, 10
        out dx, al
%endif
%endmacro

%define PML4 0x1000
%define PDPT 0x2000
%define PD   0x3000

        bits 16
        org 0x7c00
start:
        cli
        mov al, 0x10                    ; real_mode, as early as possible
        out MARKER_PORT, al
        SERIAL_LINE 'R'
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
%ifdef CRASH
        lidt [null_idt]                 ; no IDT: the next fault escalates to a triple fault
        int3
%endif
        in al, 0x92                     ; fast A20: 64-bit code above 1 MiB needs it
        or al, 2
        and al, 0xfe
        out 0x92, al

        ; Identity-map the first 1 GiB with 2 MiB pages: PML4 -> PDPT -> PD (512 entries).
        mov di, PML4
        mov cx, 3 * 4096 / 4
        xor eax, eax
        rep stosd
        mov dword [PML4], PDPT | 3
        mov dword [PDPT], PD | 3
        mov di, PD
        mov eax, 0x83                   ; present | writable | 2 MiB page
        mov cx, 512
.pd:    mov dword [di], eax
        add eax, 0x200000
        add di, 8
        loop .pd

        mov eax, cr4
        or eax, 1 << 5                  ; PAE
        mov cr4, eax
        mov eax, PML4
        mov cr3, eax
        mov ecx, 0xc0000080             ; EFER.LME
        rdmsr
        or eax, 1 << 8
        wrmsr
        lgdt [gdt_desc]
        mov eax, cr0
        or eax, (1 << 31) | 1           ; PG | PE: straight from real mode to long mode
        mov cr0, eax
        jmp 0x08:long_mode

        bits 64
long_mode:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
%ifdef OUT_OF_ORDER
        mov al, 0x30
        out MARKER_PORT, al
%endif
        mov al, 0x20                    ; long_mode
        out MARKER_PORT, al
        SERIAL_LINE 'L'

        ; The work: an xorshift loop whose result is kept, so the phase is real computation.
        mov ecx, WORK
        mov rax, 0x9e3779b97f4a7c15
.work:  mov rdx, rax
        shl rdx, 13
        xor rax, rdx
        mov rdx, rax
        shr rdx, 7
        xor rax, rdx
        dec ecx
        jnz .work
        mov [result], rax
%ifdef POST
        mov ecx, POST                   ; n writes to the POST port, each a VM exit
        xor eax, eax
.post:  out 0x80, al
        dec ecx
        jnz .post
%endif
%ifdef HANG
.hang:  hlt
        jmp .hang
%endif
%ifndef OUT_OF_ORDER
        mov al, 0x30                    ; work_done
        out MARKER_PORT, al
        SERIAL_LINE 'W'
%endif
        mov dx, EXIT_PORT
        mov al, EXIT_VALUE
        out dx, al
.halt:  cli                             ; only reached without isa-debug-exit
        hlt
        jmp .halt

        align 8
gdt:    dq 0
        dq 0x00af9a000000ffff           ; 0x08: 64-bit code
        dq 0x00cf92000000ffff           ; 0x10: data
gdt_desc:
        dw gdt_desc - gdt - 1
        dd gdt
null_idt:
        dw 0
        dd 0
result: dq 0

        times 510 - ($ - $$) db 0
        dw 0xaa55
