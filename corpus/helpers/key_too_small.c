// The map has an 8-byte key, but the key pointer passed to bpf_map_lookup_elem points to a 4-byte stack slot at the top of the frame.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u64);
	__type(value, __u64);
} wide SEC(".maps");

SEC("xdp")
__attribute__((naked)) int key_too_small(void)
{
	asm volatile(
		"r1 = 0\n"
		"*(u32 *)(r10 - 4) = r1\n"
		"r2 = r10\n"
		"r2 += -4\n"
		"r1 = %[wide] ll\n"
		"call 1\n"
		"r0 = 0\n"
		"exit\n"
		:: [wide] "i"(&wide) : "memory");
}

char LICENSE[] SEC("license") = "GPL";
