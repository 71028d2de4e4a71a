import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api';

/** Loads `fetcher` now and every `intervalMs` (which may change with the data); keeps the last error. */
export function usePoll<T>(
  fetcher: () => Promise<T>,
  intervalMs: (data: T | undefined) => number,
  deps: unknown[],
): { data: T | undefined; error: ApiError | null; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [tick, setTick] = useState(0);
  const latest = useRef<T | undefined>(undefined);
  const reload = useCallback(() => setTick((n) => n + 1), []);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async (): Promise<void> => {
      try {
        const value = await fetcher();
        if (stopped) return;
        latest.current = value;
        setData(value);
        setError(null);
      } catch (e) {
        if (stopped) return;
        setError(e instanceof ApiError ? e : new ApiError(0, 'error', ''));
      }
      if (!stopped) timer = setTimeout(() => void run(), intervalMs(latest.current));
    };
    void run();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [...deps, tick]);

  return { data, error, reload };
}
