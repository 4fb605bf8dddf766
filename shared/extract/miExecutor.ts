// What the extraction needs from the MI client: one call at a time, bounded by a deadline.
import type { Deadline } from '../runtime/deadline.ts';
import type { MiRequest, MiResponse } from '../m3/miTypes.ts';

export interface MiExecutor {
  execute(request: MiRequest, options?: { deadline?: Deadline; signal?: AbortSignal }): Promise<MiResponse>;
}
