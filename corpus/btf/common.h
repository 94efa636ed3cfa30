/* The few kernel types the btf/ cases use, laid out at the running 6.18 kernel's
 * offsets (from its BTF) with padding, so no CO-RE relocation is needed. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sk_buff {
	char _pad0[112];
	unsigned int len;    /* offset 112 */
	char _pad1[164 - 116];
	unsigned int mark;   /* offset 164 */
};

struct task_struct {
	char _pad0[1264];
	int pid;             /* offset 1264 */
};

struct bpf_iter_meta;

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};
