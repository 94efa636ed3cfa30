#include "common.h"

/* iter/task: ctx->task is NULL on the last call; dereferencing it unchecked is refused. */
SEC("iter/task")
int iter_task_no_null_check(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	return task->pid == 1;
}

char _license[] SEC("license") = "GPL";
