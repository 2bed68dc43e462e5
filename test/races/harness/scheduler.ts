/**
 * A deterministic scheduler for actors that share one database. Every store call of an actor passes a gate; the
 * scheduler waits until the system is quiet (each live actor parked at a gate or finished — an actor between
 * gates, in a Wait state or a retry timer, counts as running), then lets exactly one actor through. So at most one
 * actor runs at a time and the order of store calls is a function of the choices alone: a choice sequence
 * replays exactly.
 *
 * A choice point is a quiet moment with two or more actors parked. Choices are recorded as ordinals over a
 * canonical order of the parked actors: ordinal 0 continues the actor that ran last when it is parked (no
 * preemption), otherwise the lowest-numbered one; ordinals 1, 2, ... are the others in actor order. The default
 * schedule (all zeros) therefore runs each actor as far as it goes before the next.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Longest an actor may run between two gates before the scheduler calls it stuck. */
export const actorRunningTimeoutMs = 20_000;
/** Gates one schedule may pass: a bound on runaway retry loops. */
export const scheduleStepsMax = 2_000;

export interface ChoicePoint {
  /** Parked actors, in canonical order (index 0 = the non-preemptive choice). */
  readonly order: readonly number[];
  /** Whether the actor that ran last was among them (then any ordinal > 0 is a preemption). */
  readonly lastParked: boolean;
  readonly chosen: number;
}

/** Picks an ordinal in [0, options) at each choice point. */
export type Chooser = (options: number, point: { index: number; lastParked: boolean }) => number;

interface ActorState {
  readonly name: string;
  readonly parked: Array<{ operation: string; release: () => void }>;
  inFlight: number;
  done: boolean;
}

export interface ScheduleResult<T> {
  readonly outcomes: ReadonlyArray<{ readonly name: string; readonly outcome: T | { error: unknown } }>;
  readonly points: readonly ChoicePoint[];
  /** Each step: the actor let through and the store calls it was parked at. */
  readonly trace: readonly string[];
}

export class Scheduler<T> {
  private readonly actors: ActorState[] = [];
  private readonly results: Array<Promise<T | { error: unknown }>> = [];
  private wake: (() => void) | undefined;
  readonly points: ChoicePoint[] = [];
  readonly trace: string[] = [];

  constructor(private readonly chooser: Chooser) {}

  /**
   * Adds an actor; it starts parked at a 'start' gate, so when it begins is a choice too. Actors may spawn
   * actors while the schedule runs (a recovery sweep starting an execution).
   */
  spawn(name: string, body: (client: (base: DynamoDBDocumentClient) => DynamoDBDocumentClient) => Promise<T>): void {
    const index = this.actors.length;
    const state: ActorState = { name, parked: [], inFlight: 0, done: false };
    this.actors.push(state);
    const gated = (base: DynamoDBDocumentClient) => this.gatedClient(index, base);
    const run = (async () => {
      await this.gate(index, 'start');
      this.land(index);
      return body(gated);
    })().then(
      (outcome) => outcome,
      (error: unknown) => ({ error }),
    );
    this.results.push(
      run.finally(() => {
        state.done = true;
        this.notify();
      }),
    );
  }

  /** Runs every actor (and those they spawn) to the end under the chooser. */
  async run(): Promise<ScheduleResult<T>> {
    let last: number | undefined;
    for (let step = 0; ; step++) {
      if (step > scheduleStepsMax) throw new Error(`schedule exceeded ${scheduleStepsMax} steps:\n${this.trace.slice(-20).join('\n')}`);
      await this.quiet();
      const parked = this.actors.flatMap((actor, index) => (actor.parked.length > 0 ? [index] : []));
      if (parked.length === 0) break;
      const lastParked = last !== undefined && parked.includes(last);
      const first = lastParked ? last! : parked[0];
      const order = [first, ...parked.filter((index) => index !== first)];
      let chosen = 0;
      if (order.length > 1) {
        chosen = this.chooser(order.length, { index: this.points.length, lastParked });
        if (!Number.isInteger(chosen) || chosen < 0 || chosen >= order.length) throw new Error(`chooser returned ${chosen} of ${order.length}`);
        this.points.push({ order, lastParked, chosen });
      }
      const pick = order[chosen];
      const actor = this.actors[pick];
      const gates = actor.parked.splice(0);
      this.trace.push(`${actor.name}: ${gates.map((gate) => gate.operation).join(' | ')}`);
      actor.inFlight += gates.length;
      for (const gate of gates) gate.release();
      last = pick;
    }
    const outcomes = await Promise.all(this.results);
    return { outcomes: outcomes.map((outcome, index) => ({ name: this.actors[index].name, outcome })), points: this.points, trace: this.trace };
  }

  private gatedClient(index: number, base: DynamoDBDocumentClient): DynamoDBDocumentClient {
    const send = async (command: { input: unknown; constructor: { name: string } }) => {
      await this.gate(index, describeCommand(command));
      try {
        return await base.send(command as never);
      } finally {
        this.land(index);
      }
    };
    // The stores use `send` only; everything else of the real client stays reachable.
    return new Proxy(base, { get: (target, property, receiver) => (property === 'send' ? send : Reflect.get(target, property, receiver)) });
  }

  private gate(index: number, operation: string): Promise<void> {
    return new Promise<void>((release) => {
      this.actors[index].parked.push({ operation, release });
      this.notify();
    });
  }

  private land(index: number): void {
    this.actors[index].inFlight--;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private isQuiet(): boolean {
    return this.actors.every((actor) => actor.done || (actor.parked.length > 0 && actor.inFlight === 0));
  }

  private async quiet(): Promise<void> {
    const deadline = Date.now() + actorRunningTimeoutMs;
    while (!this.isQuiet()) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
      });
      clearTimeout(timer);
      if (Date.now() >= deadline && !this.isQuiet()) {
        const running = this.actors.filter((actor) => !actor.done && (actor.parked.length === 0 || actor.inFlight > 0)).map((actor) => actor.name);
        throw new Error(`actor(s) ${running.join(', ')} neither parked nor finished within ${actorRunningTimeoutMs} ms`);
      }
    }
  }
}

/** A short, readable name of a store call for traces: the command and the keys it touches. */
export function describeCommand(command: { input: unknown; constructor: { name: string } }): string {
  const name = command.constructor.name.replace(/Command$/, '');
  const input = command.input as Record<string, any>;
  const keyOf = (request: Record<string, any> | undefined): string => {
    if (!request) return '?';
    const key = request.Key ?? request.Item ?? {};
    const parts = [key.pk ?? key.accountId, key.sk ?? key.entryKey].filter((part) => part !== undefined).map(String);
    return parts.length > 0 ? parts.join('/') : String(request.TableName ?? '').replace(/^.*-/, '');
  };
  if (Array.isArray(input.TransactItems)) {
    return `${name}[${input.TransactItems.map((item: Record<string, any>) => `${Object.keys(item)[0]} ${keyOf(Object.values(item)[0] as Record<string, any>)}`).join(', ')}]`;
  }
  if (input.IndexName) return `${name} ${String(input.IndexName)}`;
  return `${name} ${keyOf(input)}`;
}
