import { expect } from "vitest";
import { PrCreatorError } from "../src/domain/errors.js";

/** Awaits a promise that must reject with a PrCreatorError, and returns that error. */
export async function rejection(promise: Promise<unknown>): Promise<PrCreatorError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PrCreatorError);
    return error as PrCreatorError;
  }
  throw new Error("expected the promise to reject");
}
