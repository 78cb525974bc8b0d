import { describe, expect, it } from "vitest";
import {
  inRange,
  pageOf,
  parseStripeParams,
  rangeParam,
  StripeApiError,
} from "../../../src/demo/stripe-params.js";

describe("parseStripeParams", () => {
  it("reads nested hashes, indexed arrays and appended arrays", () => {
    expect(
      parseStripeParams(
        "created[gte]=10&created[lt]=20&expand[0]=data.customer&expand[1]=tiers&types[]=a&types[]=b&payload[value]=25&limit=3",
      ),
    ).toEqual({
      created: { gte: "10", lt: "20" },
      expand: ["data.customer", "tiers"],
      types: ["a", "b"],
      payload: { value: "25" },
      limit: "3",
    });
  });

  it("decodes percent-encoded brackets the same as literal ones", () => {
    expect(parseStripeParams("created%5Bgte%5D=5")).toEqual({ created: { gte: "5" } });
  });
});

describe("rangeParam", () => {
  it("treats a bare value as an exact match and a hash as bounds", () => {
    expect(rangeParam({ created: "7" }, "created")).toEqual({ gte: 7, lte: 7 });
    const range = rangeParam({ created: { gt: "1", lte: "3" } }, "created");
    expect([1, 2, 3, 4].filter((value) => inRange(value, range))).toEqual([2, 3]);
  });

  it("rejects a non-integer bound", () => {
    expect(() => rangeParam({ created: { gte: "soon" } }, "created")).toThrow(StripeApiError);
  });
});

describe("pageOf", () => {
  const items = Array.from({ length: 25 }, (_, index) => ({ id: `obj_${index}`, object: "thing" }));

  it("pages forward and backward around a cursor", () => {
    const first = pageOf(items, {}, "/v1/things");
    expect(first.data.map((item) => item.id)).toEqual(items.slice(0, 10).map((item) => item.id));
    expect(first.has_more).toBe(true);
    const last = pageOf(items, { starting_after: "obj_19", limit: "10" }, "/v1/things");
    expect(last.data.map((item) => item.id)).toEqual(["obj_20", "obj_21", "obj_22", "obj_23", "obj_24"]);
    expect(last.has_more).toBe(false);
    const before = pageOf(items, { ending_before: "obj_3", limit: "2" }, "/v1/things");
    expect(before.data.map((item) => item.id)).toEqual(["obj_1", "obj_2"]);
    expect(before.has_more).toBe(true);
  });

  it("rejects an unknown cursor and both cursors at once", () => {
    expect(() => pageOf(items, { starting_after: "obj_x" }, "/v1/things")).toThrow(/No such object/);
    expect(() => pageOf(items, { starting_after: "obj_1", ending_before: "obj_5" }, "/v1/things")).toThrow(
      /only specify one/,
    );
  });
});
