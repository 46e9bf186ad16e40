// The few service-worker globals the entry uses. The project compiles against the DOM and
// Workers type libraries, which cannot be combined with the "webworker" lib in one program,
// so these are declared here under names of their own.
export interface SwExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}

export interface SwFetchEvent extends SwExtendableEvent {
  readonly request: Request;
  respondWith(r: Response | Promise<Response>): void;
}

export interface SwMessageEvent extends SwExtendableEvent {
  readonly data: unknown;
  readonly ports: readonly MessagePort[];
}

export interface SwScope {
  readonly registration: { readonly scope: string; readonly active: object | null };
  readonly location: { readonly origin: string };
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', listener: (e: SwExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (e: SwFetchEvent) => void): void;
  addEventListener(type: 'message', listener: (e: SwMessageEvent) => void): void;
}
