#include "common.h"

/* iter/task: with the NULL check, reading the task is fine. */
SEC("iter/task")
int iter_task_null_check(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	return task->pid == 1;
}

char _license[] SEC("license") = "GPL";
