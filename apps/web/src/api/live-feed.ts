import { createParser } from 'eventsource-parser';
import type { FeedEvent } from './types';
import { API, errorOf, HttpError } from './http';

/** Where the live feed is: opening, tailing, waiting to reconnect, or stopped (logged out, or the page left). */
export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

/** First and longest wait before reconnecting a dropped feed (ms); doubled on each failure in a row. */
export const RECONNECT_MS = { first: 500, max: 8000 } as const;

/**
 * The global log, live (`GET /events`, `Accept: text/event-stream`) over fetch, authenticated by the login cookie.
 * Not the browser's EventSource: the server names each frame by its event type, and EventSource delivers named frames
 * only to listeners registered for each name in advance, so an event type added later would be missed. Resumes after
 * the last global position it delivered, so a reconnect neither skips nor repeats an event; stops on a 401.
 */
export class LiveFeed {
  private readonly eventListeners = new Set<(event: FeedEvent) => void>();
  private readonly statusListeners = new Set<(status: LiveStatus) => void>();
  private controller: AbortController | null = null;
  private position = 0;
  status: LiveStatus = 'stopped';

  /** Global position of the last event delivered (or the starting point). */
  get lastPosition(): number {
    return this.position;
  }

  /** Calls `listener` with every event, in log order; returns the unsubscribe function. */
  subscribe(listener: (event: FeedEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Calls `listener` on every status change; returns the unsubscribe function. */
  onStatus(listener: (status: LiveStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Tails the log after global position `from` until stop(); `onUnauthorized` is called if the server answers 401. */
  start(from: number, onUnauthorized: () => void): void {
    this.stop();
    this.position = from;
    const controller = new AbortController();
    this.controller = controller;
    void this.run(controller.signal, onUnauthorized);
  }

  /** Closes the connection; no reconnect follows. */
  stop(): void {
    this.controller?.abort();
    this.controller = null;
    this.setStatus('stopped');
  }

  private async run(signal: AbortSignal, onUnauthorized: () => void): Promise<void> {
    let wait: number = RECONNECT_MS.first;
    this.setStatus('connecting');
    while (!signal.aborted) {
      try {
        await this.tail(signal);
        wait = RECONNECT_MS.first; // the server closed a healthy stream: reconnect at once
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof HttpError && error.status === 401) {
          this.setStatus('stopped');
          onUnauthorized();
          return;
        }
      }
      if (signal.aborted) return;
      this.setStatus('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, RECONNECT_MS.max);
    }
  }

  private async tail(signal: AbortSignal): Promise<void> {
    const response = await fetch(`${API}/events?from=${this.position}`, { headers: { accept: 'text/event-stream' }, credentials: 'same-origin', signal, cache: 'no-store' });
    if (!response.ok || !response.body) throw await errorOf(response);
    this.setStatus('live');
    const parser = createParser({
      onEvent: (message) => {
        const event = JSON.parse(message.data) as FeedEvent;
        if (event.globalPosition <= this.position) return; // already delivered before a reconnect
        this.position = event.globalPosition;
        for (const listener of this.eventListeners) listener(event);
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      parser.feed(value);
    }
  }

  private setStatus(status: LiveStatus): void {
    if (status === this.status) return;
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }
}
