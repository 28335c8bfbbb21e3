/**
 * The activity log: events accepted onto buses and deliveries to targets, numbered from one sequence (so a tail
 * can ask for everything after a number), capped in memory, and pushed to subscribers.
 */
import { busNameOf } from './registry';
import { BusActivity, BusEventRecord, DeliveryRecord } from './types';

export class ActivityLog {
  private seq = 0;
  private readonly busLog: BusEventRecord[] = [];
  private readonly deliveries: DeliveryRecord[] = [];
  private readonly listeners = new Set<(e: BusActivity) => void>();

  constructor(private readonly historyLimit: number) {}

  nextSeq(): number {
    return ++this.seq;
  }

  recordEvent(record: BusEventRecord): void {
    this.busLog.push(record);
    this.trim(this.busLog);
    this.emit({ kind: 'event', record });
  }

  recordDelivery(record: DeliveryRecord): void {
    this.deliveries.push(record);
    this.trim(this.deliveries);
    this.emit({ kind: 'delivery', record });
  }

  events(busName?: string, afterSeq = 0): BusEventRecord[] {
    return this.busLog.filter((e) => e.seq > afterSeq && (!busName || e.busName === busNameOf(busName)));
  }

  delivered(ruleName?: string, busName?: string): DeliveryRecord[] {
    return this.deliveries.filter((d) => (!ruleName || d.ruleName === ruleName) && (!busName || d.busName === busNameOf(busName)));
  }

  deliveredAfter(afterSeq: number, busName?: string): DeliveryRecord[] {
    return this.deliveries.filter((d) => d.seq > afterSeq && (!busName || d.busName === busNameOf(busName)));
  }

  subscribe(listener: (e: BusActivity) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: BusActivity): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* a listener's bug must not break delivery */
      }
    }
  }

  private trim<T>(arr: T[]): void {
    if (arr.length > this.historyLimit) arr.splice(0, arr.length - this.historyLimit);
  }
}
