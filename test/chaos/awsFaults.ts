// Fault injection into the AWS SDK v3 clients a local sync builds (S3 for staging and plans, DynamoDB for
// the ledger, watermarks, leases and token cache): one middleware per client, placed right after the SDK's
// retry middleware, so every attempt passes through it and the SDK's own retries see what it throws —
// exactly where a real throttle, a 5xx or a dropped connection would surface.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export type AwsService = 's3' | 'dynamodb';

/**
 * Set while a Lambda handler runs (TaskFaultInjector.wrap): faults hit what the pipeline's functions call,
 * not the local runner's own reads after an execution, nor the harness's checks.
 */
export const inLambda = new AsyncLocalStorage<true>();

/**
 * retryable: the attempt fails with a throttle/5xx the SDK retries (count 3+ exhausts its 3 attempts).
 * fatal: a non-retryable error (access denied) reaches the product's code.
 * lost-response: the request is executed, then the answer is lost (a retryable error): the SDK sends it
 * again, so conditional writes meet their own earlier success.
 */
export type AwsFaultMode = 'retryable' | 'fatal' | 'lost-response';

export interface AwsFaultSpec {
  service: AwsService;
  /** The SDK command name, e.g. PutObjectCommand, UpdateItemCommand (lib-dynamodb sends the *ItemCommand). */
  command: string;
  /** Fires from the nth matching attempt after injection (1-based). */
  nth: number;
  /** Consecutive matching attempts that fail. */
  count: number;
  mode: AwsFaultMode;
}

interface ArmedFault {
  spec: AwsFaultSpec;
  seen: number;
  fired: number;
}

function retryableError(service: AwsService): Error {
  return service === 's3'
    ? Object.assign(new Error('Please reduce your request rate. (chaos)'), { name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 } })
    : Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded. (chaos)'), {
        name: 'ProvisionedThroughputExceededException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        $retryable: { throttling: true },
      });
}

function fatalError(service: AwsService): Error {
  return service === 's3'
    ? Object.assign(new Error('Access Denied (chaos)'), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } })
    : Object.assign(new Error('User is not authorized to perform this operation (chaos)'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
}

/** Faults armed on the S3 and DynamoDB clients of one local sync session. */
export class AwsFaultInjector {
  private armed: ArmedFault[] = [];
  /** Fired faults, e.g. "dynamodb UpdateItemCommand lost-response". */
  readonly fired: string[] = [];
  /** Attempts seen per "service command", for sizing `nth` in scenario plans. */
  readonly attempts = new Map<string, number>();

  constructor(clients: { s3: S3Client; documents: DynamoDBDocumentClient }) {
    this.attach('s3', clients.s3.middlewareStack);
    // The document client shares its middleware stack with the DynamoDB client it wraps.
    this.attach('dynamodb', clients.documents.middlewareStack);
  }

  arm(spec: AwsFaultSpec): void {
    this.armed.push({ spec, seen: 0, fired: 0 });
  }

  clear(): void {
    this.armed = [];
  }

  private attach(service: AwsService, stack: S3Client['middlewareStack'] | DynamoDBDocumentClient['middlewareStack']): void {
    // The stacks' input/output types differ per client; the middleware only passes them through.
    const relative = stack as unknown as { addRelativeTo(middleware: unknown, options: Record<string, unknown>): void };
    relative.addRelativeTo(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        const command = context.commandName ?? '?';
        const label = `${service} ${command}`;
        this.attempts.set(label, (this.attempts.get(label) ?? 0) + 1);
        const fault = inLambda.getStore() ? this.take(service, command) : undefined;
        if (!fault) return next(args);
        this.fired.push(`${label} ${fault.mode}`);
        if (fault.mode === 'fatal') throw fatalError(service);
        if (fault.mode === 'retryable') throw retryableError(service);
        await next(args);
        throw retryableError(service);
      },
      { name: `chaosFaults-${service}`, relation: 'after', toMiddleware: 'retryMiddleware', override: true },
    );
  }

  private take(service: AwsService, command: string): AwsFaultSpec | undefined {
    let due: ArmedFault | undefined;
    for (const armed of this.armed) {
      if (armed.spec.service !== service || armed.spec.command !== command) continue;
      armed.seen += 1;
      if (!due && armed.seen >= armed.spec.nth && armed.fired < armed.spec.count) due = armed;
    }
    if (!due) return undefined;
    due.fired += 1;
    this.armed = this.armed.filter((a) => a.fired < a.spec.count);
    return due.spec;
  }
}
