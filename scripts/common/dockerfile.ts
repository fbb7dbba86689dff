// A small Dockerfile reader for the image tests and the benchmark: instructions with continuation lines joined,
// grouped into stages.
import * as fs from 'node:fs';

/** One instruction, keyword upper-cased, arguments as written. */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** A build stage: its base image, its `AS` name, and its instructions after FROM. */
export interface Stage {
  readonly image: string;
  readonly name?: string;
  readonly instructions: Instruction[];
}

/** Parses the Dockerfile text into stages (comments and blank lines dropped, `\` continuations joined). */
export function parseDockerfile(text: string): Stage[] {
  const logicalLines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logicalLines.push(pending + line);
    pending = '';
  }
  const stages: Stage[] = [];
  for (const line of logicalLines) {
    const [keyword, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') {
      const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (match === null) throw new Error(`unreadable FROM: ${line}`);
      stages.push({ image: match[1], name: match[2], instructions: [] });
    } else {
      if (stages.length === 0) {
        if (keyword.toUpperCase() === 'ARG') continue;
        throw new Error(`${keyword} before the first FROM`);
      }
      stages[stages.length - 1].instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

export function readDockerfile(file: string): Stage[] {
  return parseDockerfile(fs.readFileSync(file, 'utf8'));
}

/** The arguments of every `keyword` instruction of `stage`. */
export function argsOf(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);
}

/** A COPY's `--from` stage (undefined for the build context), sources and destination. */
export function parseCopy(args: string): { from?: string; sources: string[]; destination: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((word) => word.startsWith('--'));
  const paths = words.filter((word) => !word.startsWith('--'));
  const from = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: paths.slice(0, -1), destination: paths[paths.length - 1] };
}

/**
 * The node flags the runtime stage's ENTRYPOINT passes before the server script (`["node", ...flags, script]`),
 * so the benchmark and the image tests run the server the way the image does.
 */
export function entrypointNodeFlags(stages: readonly Stage[]): string[] {
  const runtime = stages[stages.length - 1];
  const [entrypoint] = argsOf(runtime, 'ENTRYPOINT');
  if (entrypoint === undefined) throw new Error('the runtime stage has no ENTRYPOINT');
  const words = JSON.parse(entrypoint) as string[];
  return words.slice(1, -1);
}
