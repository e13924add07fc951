; Treecast counter guest: a boot sector that counts timer ticks in guest memory while the VM runs.
;
; Memory layout (physical, little-endian u32 each), read by the agent with HMP "xp /4wx 0x500":
;   0x500  counter     ticks counted toward the target (one tick = 10 ms of guest virtual time)
;   0x504  target      the count at which the guest stops counting
;   0x508  generation  the workload generation last taken from the host (low byte)
;   0x50C  magic       0x54534354 (bytes "TCST") once the guest has initialised the block
;
; Host to guest: guest RAM cannot be written through QMP on QEMU 7.2, so the host writes I/O ports with
; HMP "o". The ISA DMA page registers of the second controller are plain latches that keep what is written
; and are part of the migrated device state; nothing else uses them once the BIOS has booted us from floppy
; (which uses channel 2 only). A new generation in port 0x87 (channel 0's page register) starts a new
; workload: the guest resets the counter and latches the target from ports 0x8F (bits 0-7), 0x8B (8-15),
; 0x89 (16-23) and 0x8A (24-31). The host writes the target bytes first and the generation last.
;
; The guest sleeps in hlt between ticks (the PIT at 100 Hz is the only unmasked interrupt), so an idle or
; counting guest costs the host almost no CPU under software emulation, and stopping the VM stops the count.

bits 16
org 0x7C00

%ifndef DEFAULT_TARGET
%define DEFAULT_TARGET 3000            ; 30 s of running before any workload is started by the host
%endif

COUNTER    equ 0x500
TARGET     equ 0x504
GENERATION equ 0x508
MAGIC      equ 0x50C
MAGIC_VALUE equ 0x54534354             ; bytes "TCST" in memory

PIT_DIVISOR equ 11932                  ; 1193182 Hz / 11932 = 100 Hz

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    cld

    ; Our own IRQ0 handler (vector 8): it only acknowledges, the work happens after hlt returns.
    mov word [8 * 4], tick
    mov word [8 * 4 + 2], 0

    ; PIT channel 0, lobyte/hibyte, mode 2 (rate generator).
    mov al, 0x34
    out 0x43, al
    mov ax, PIT_DIVISOR
    out 0x40, al
    mov al, ah
    out 0x40, al

    ; Only the timer may wake us.
    mov al, 0xFE
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al

    mov dword [COUNTER], 0
    mov dword [TARGET], DEFAULT_TARGET
    mov dword [GENERATION], 0          ; generation 0 is "no workload": a host that wrote the ports
                                       ; before we booted still gets its workload started
    mov dword [MAGIC], MAGIC_VALUE

main:
    sti
    hlt                                ; sti's shadow makes "sti; hlt" wait for the next tick without a race
    cli

    in al, 0x87
    cmp al, [GENERATION]
    je .count
    mov [GENERATION], al
    in al, 0x8A
    shl eax, 8
    in al, 0x89
    shl eax, 8
    in al, 0x8B
    shl eax, 8
    in al, 0x8F
    mov [TARGET], eax
    mov dword [COUNTER], 0
    jmp main                           ; the first tick of a new workload counts from the next one

.count:
    mov eax, [COUNTER]
    cmp eax, [TARGET]
    jae main                           ; at the target: keep sleeping, only a new generation wakes the count
    inc dword [COUNTER]
    jmp main

tick:
    push ax
    mov al, 0x20
    out 0x20, al                       ; end of interrupt to the master PIC
    pop ax
    iret

    times 510 - ($ - $$) db 0
    dw 0xAA55
