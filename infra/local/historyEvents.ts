// Turns the event log of a local execution (aws-local-stepfunctions) into the number of events the same
// execution would write to its Step Functions history in AWS, where a Lambda Task also logs Scheduled,
// Started and Succeeded/Failed, and a Map logs Started/Succeeded. See shared/pipeline/historyBudget.ts.
import type { StateMachine } from 'aws-local-stepfunctions';

type Run = ReturnType<StateMachine['run']>;
export type LocalEvent = Run['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export function awsHistoryEventCount(events: readonly LocalEvent[]): number {
  let count = 0;
  // A caught Task's last attempt already counted its Scheduled/Started/Failed.
  const caught = new Set<string>();
  const keyOf = (event: { state: { name: string }; index?: number }) => `${event.state.name}#${event.index ?? ''}`;
  for (const event of events) {
    switch (event.type) {
      case 'StateEntered':
        count += event.state.type === 'Map' ? 2 : 1;
        break;
      case 'StateCaught':
        caught.add(keyOf(event));
        break;
      case 'StateExited':
        if (event.state.type === 'Task' && caught.delete(keyOf(event))) count += 1;
        else count += event.state.type === 'Task' ? 4 : event.state.type === 'Map' ? 2 : 1;
        break;
      case 'StateFailed':
        // A failed Lambda attempt: Scheduled, Started, Failed. Other states fail without events of their own.
        if (event.state.type === 'Task') count += 3;
        break;
      case 'StateRetried':
        break;
      default:
        count += 1;
    }
  }
  return count;
}
