/** Progress lines for the demo: `[3/8] sending 124 webhooks... 60/124`, updated in place on a terminal. */
export type Progress = {
  step: (text: string) => void;
  count: (done: number, total: number) => void;
  note: (text: string) => void;
  line: (text: string) => void;
};

export function createProgress(
  totalSteps: number,
  write: (text: string) => void,
  interactive: boolean,
): Progress {
  let step = 0;
  let current = "";
  let lastShown = -1;
  let open = false;
  const close = () => {
    if (open) write("\n");
    open = false;
  };
  return {
    step: (text) => {
      close();
      step += 1;
      current = `[${step}/${totalSteps}] ${text}`;
      lastShown = -1;
      write(current);
      open = true;
    },
    count: (done, total) => {
      if (interactive) {
        write(`\r${current} ${done}/${total}`);
        return;
      }
      // Without a terminal, a few milestones instead of a line per item.
      const quarter = total === 0 ? 4 : Math.floor((done / total) * 4);
      if (quarter === lastShown) return;
      lastShown = quarter;
      write(` ${done}/${total}`);
    },
    note: (text) => {
      close();
      write(`      ${text}\n`);
    },
    line: (text) => {
      close();
      write(`${text}\n`);
    },
  };
}
