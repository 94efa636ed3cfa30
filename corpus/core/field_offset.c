// A CO-RE field access: &task->pid is relocated to the running kernel's offset.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

SEC("kprobe/do_nanosleep")
int field_offset(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	int pid = 0;

	bpf_probe_read_kernel(&pid, sizeof(pid), &t->pid);
	return pid & 1;
}

char LICENSE[] SEC("license") = "GPL";
