// What the extraction needs from the MI client: one call at a time, bounded by a deadline.
import type { Deadline } from '../runtime/deadline.ts';
import type { MiRequest, MiResponse } from '../m3/miTypes.ts';

export interface MiExecutor {
  /** `slowAnswers: 'hand-back'` ends the call at a 504 or a timed-out attempt with MiSlowAnswerError (see MiClient). */
  execute(request: MiRequest, options?: { deadline?: Deadline; signal?: AbortSignal; slowAnswers?: 'retry' | 'hand-back' }): Promise<MiResponse>;
}
