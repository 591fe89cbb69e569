/* /init of the Linux guest's initramfs: the qemu-boot-time user-space marker, then power off.
 * Built static (no libc in the initramfs) by scripts/linux-guest.sh. */
#include <sys/io.h>
#include <sys/reboot.h>
#include <unistd.h>

int main(void)
{
	/* 7 = linux_start_user on port 0xf4 (qemu-boot-time's table): the first user thread */
	if (ioperm(0xf4, 1, 1) == 0)
		outb(7, 0xf4);
	/* isa-debug-exit at 0x501: qemu exits with (0x10 << 1) | 1 = 33 */
	if (ioperm(0x501, 2, 1) == 0)
		outb(0x10, 0x501);
	reboot(RB_POWER_OFF); /* without isa-debug-exit */
	for (;;)
		pause();
}
