import { useCallback, useEffect, useState } from 'react';

/** A moderator's own settings, kept in this browser. */
export interface Settings {
  /** Blur media until revealed (on by default; every new case starts blurred again). */
  blur: boolean;
  /** Show media in greyscale until revealed. */
  greyscale: boolean;
  /** Single-letter keyboard shortcuts (WCAG 2.1.4: they can be turned off). */
  shortcuts: boolean;
}

const KEY = 'kaitiaki.settings';
const DEFAULTS: Settings = { blur: true, greyscale: true, shortcuts: true };
const CHANGED = 'kaitiaki:settings';

export function readSettings(): Settings {
  try {
    return { ...DEFAULTS, ...(JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Settings>) };
  } catch {
    return DEFAULTS;
  }
}

export function useSettings(): [Settings, (change: Partial<Settings>) => void] {
  const [settings, setSettings] = useState(readSettings);
  useEffect(() => {
    const onChange = () => setSettings(readSettings());
    window.addEventListener(CHANGED, onChange);
    return () => window.removeEventListener(CHANGED, onChange);
  }, []);
  const update = useCallback((change: Partial<Settings>) => {
    localStorage.setItem(KEY, JSON.stringify({ ...readSettings(), ...change }));
    window.dispatchEvent(new Event(CHANGED));
  }, []);
  return [settings, update];
}
