// The same unresolvable relocation, guarded by a field-existence check the loader
// resolves to 0: the poisoned instruction is dead code, and the program loads.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct nonexist {
	int non_exist;
} __attribute__((preserve_access_index));

SEC("socket")
int poisoned_dead(void *ctx)
{
	if (__builtin_preserve_field_info(((struct nonexist *)0)->non_exist, 2 /* BPF_FIELD_EXISTS */))
		return __builtin_preserve_field_info(((struct nonexist *)0)->non_exist, 0 /* BPF_FIELD_BYTE_OFFSET */);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
