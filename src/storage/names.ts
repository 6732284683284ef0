/**
 * Names on disk and in the index: partition directories `<topic>-<partition>`,
 * segment files named by their 20-digit base offset, topic name rules.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { topicNameLengthMax } from '../shared/limits.js';

export const segmentSuffix = '.log';
const legalTopic = /^[a-zA-Z0-9._-]+$/;
const partitionDir = /^(.+)-(\d{1,9})$/;
const segmentFile = /^(\d{20})\.log$/;

export function validateTopicName(topic: string): void {
  if (topic.length === 0) throw new SluiceError(ErrorCode.InvalidTopic, 'topic name is empty');
  if (topic === '.' || topic === '..')
    throw new SluiceError(ErrorCode.InvalidTopic, `topic name "${topic}" is illegal`);
  if (topic.length > topicNameLengthMax) {
    throw new SluiceError(
      ErrorCode.InvalidTopic,
      `topic name is ${topic.length} characters long, more than ${topicNameLengthMax}`,
    );
  }
  if (!legalTopic.test(topic)) {
    throw new SluiceError(
      ErrorCode.InvalidTopic,
      `topic name "${topic}" has characters other than ASCII letters, digits, '.', '_' and '-'`,
    );
  }
}

export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export function parsePartitionDirName(name: string): { topic: string; partition: number } | undefined {
  const m = partitionDir.exec(name);
  if (!m) return undefined;
  const topic = m[1] as string;
  try {
    validateTopicName(topic);
  } catch {
    return undefined;
  }
  return { topic, partition: Number(m[2]) };
}

export function pad20(n: number): string {
  return String(n).padStart(20, '0');
}

export function segmentFileName(baseOffset: number): string {
  return `${pad20(baseOffset)}${segmentSuffix}`;
}

export function parseSegmentFileName(name: string): number | undefined {
  const m = segmentFile.exec(name);
  return m ? Number(m[1]) : undefined;
}
