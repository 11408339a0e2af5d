import { useEffect, useRef, useState, type RefObject } from 'react';

/** Loads data when `deps` change; `reload` loads again (polling, after a change). Stale answers are dropped. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (d) => live && (setData(d), setError(null)),
      (e: unknown) => live && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((n) => n + 1) };
}

/**
 * A new screen: the page title names it, and focus moves to its heading (so a screen reader announces it and
 * the next Tab starts there), once it is shown.
 */
export function useScreen(title: string | null, ready = true): RefObject<HTMLHeadingElement | null> {
  const heading = useRef<HTMLHeadingElement | null>(null);
  useEffect(() => {
    if (title === null || !ready) return;
    document.title = `${title} · Kaitiaki`;
    heading.current?.focus();
  }, [title, ready]);
  return heading;
}

/** "in 52 min", "3 h ago": a time relative to now (the exact time goes in a tooltip and a <time>). */
export function relativeTime(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  const abs = Math.abs(ms);
  const [n, unit] =
    abs < 60_000
      ? [Math.round(abs / 1000), 's']
      : abs < 3_600_000
        ? [Math.round(abs / 60_000), 'min']
        : abs < 86_400_000 * 2
          ? [Math.round(abs / 3_600_000), 'h']
          : [Math.round(abs / 86_400_000), 'days'];
  return ms >= 0 ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

/** Ticks every `ms` milliseconds (relative times and polling). */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** True when a key press is typing: focus in a field, so single-letter shortcuts must not act. */
export function isTyping(event: KeyboardEvent): boolean {
  const target = event.target;
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement)
    return !['radio', 'checkbox', 'button', 'submit', 'reset'].includes(target.type);
  return false;
}

/** Single-letter shortcuts act only without modifiers, outside fields, with no dialog open, when turned on. */
export function shortcutAllowed(event: KeyboardEvent, enabled: boolean): boolean {
  return (
    enabled &&
    !event.ctrlKey &&
    !event.metaKey &&
    !event.altKey &&
    !isTyping(event) &&
    document.querySelector('dialog[open]') === null
  );
}
