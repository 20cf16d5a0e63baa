/* tasks: the Task object of API §2, shared by the tasks routes (api_task_routes
 * in api.h) and whatever else pushes tasks to clients. */
#ifndef NETRA_API_TASKS_H
#define NETRA_API_TASKS_H
#include <jansson.h>
#include "drive/tasks.h"

/** A Task object: {"task_id","file_name","status","type","progress_percent"
 *  (0..100, two decimals),"transferred","transferred_hr","total","total_hr",
 *  "speed_bytes_per_sec","eta_seconds": n|null,"eta_friendly","can_cancel",
 *  "created_at","updated_at","error": str|null,"file_id": id|null}. New
 *  reference, NULL when out of memory. */
json_t *task_render(const struct task_view *v);

#endif
