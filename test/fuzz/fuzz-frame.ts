/** One generated frame and what it is, for counting and for replaying it alone. */
export type Listener = 'native' | 'kafka';

export interface FuzzFrame {
  listener: Listener;
  /** Position in the run: with the run's seed it regenerates this frame (random.ts frameSeed). */
  index: number;
  /** The mutation family (e.g. 'hostile-msgpack', 'bit-flip', 'bad-batch'). */
  kind: string;
  /** The finer mutation (e.g. the hostile value or batch lie), '' when none. */
  detail: string;
  /** The API the frame started as (the name, or 'api N'). */
  api: string;
  bytes: Buffer;
}
