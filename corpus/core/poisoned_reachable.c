// A CO-RE relocation against a type the kernel does not have, on a reachable path:
// libbpf poisons the instruction and the load fails.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct nonexist {
	int non_exist;
} __attribute__((preserve_access_index));

SEC("socket")
int poisoned_reachable(void *ctx)
{
	return __builtin_preserve_field_info(((struct nonexist *)0)->non_exist, 0 /* BPF_FIELD_BYTE_OFFSET */);
}

char LICENSE[] SEC("license") = "GPL";
