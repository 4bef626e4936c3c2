/**
 * DOM helpers the web demo's pages share: typed element lookups that fail loudly, attaching a stream to a
 * `<video>`, and the timeline list under the participants.
 */

/** The element matching `selector` under `root`; throws when there is none. */
export function element(root: ParentNode, selector: string): HTMLElement {
  const found = root.querySelector(selector);
  if (!(found instanceof HTMLElement)) {
    throw new Error(`missing element ${selector}`);
  }
  return found;
}

/** The `<video>` matching `selector` under `root`; throws when there is none. */
export function video(root: ParentNode, selector: string): HTMLVideoElement {
  const found = element(root, selector);
  if (!(found instanceof HTMLVideoElement)) {
    throw new Error(`${selector} is not a <video>`);
  }
  return found;
}

/** Shows `stream` in `video` (nothing when undefined), touching `srcObject` only when it changes. */
export function showStream(video: HTMLVideoElement, stream: MediaStream | undefined): void {
  const next = stream ?? null;
  if (video.srcObject !== next) {
    video.srcObject = next;
  }
}

/** One line of a page's timeline. */
export interface TimelineLine<W extends string> {
  /** Milliseconds since the page started. */
  t: number;
  who: W;
  what: string;
}

/** The timeline of a page: kept for `entries()` and shown in the `<ol id="timeline">`, coloured by participant. */
export class PageTimeline<W extends string> {
  readonly #started = performance.now();
  readonly #entries: TimelineLine<W>[] = [];

  /** Adds a line. */
  public add(who: W, what: string): void {
    const entry = { t: Math.round(performance.now() - this.#started), who, what };
    this.#entries.push(entry);
    const item = document.createElement("li");
    item.className = who;
    item.textContent = `${(entry.t / 1000).toFixed(2).padStart(6)} s  ${who.padEnd(5)}  ${what}`;
    document.getElementById("timeline")?.append(item);
    item.scrollIntoView({ block: "nearest" });
  }

  /** Every line so far. */
  public entries(): TimelineLine<W>[] {
    return [...this.#entries];
  }
}
