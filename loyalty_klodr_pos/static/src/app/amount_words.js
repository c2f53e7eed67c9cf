/**
 * Amounts in words in Indian numbering, for the receipt of an order that has not reached the
 * server yet (offline). A line-by-line port of loyalty_klodr/tools/amount_words.py, which reads
 * numbers with num2words' en_IN converter (splitnum / clean / merge of num2words' English,
 * with lakh and crore as its only high cards). tests/test_amount_words_js.py runs this file in
 * Chromium against the Python function on thousands of amounts: change both or neither.
 * No imports: pure functions.
 */

const LAKH = 100000;
const CRORE = 10000000;

// num2words' cards for en_IN below a crore, highest first (a crore is read recursively here,
// as the Python function does before calling num2words).
const CARDS = [
    [LAKH, "lakh"],
    [1000, "thousand"],
    [100, "hundred"],
    [90, "ninety"],
    [80, "eighty"],
    [70, "seventy"],
    [60, "sixty"],
    [50, "fifty"],
    [40, "forty"],
    [30, "thirty"],
];
const LOW = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
];
for (let n = 20; n >= 0; n--) {
    CARDS.push([n, LOW[n]]);
}

/** num2words' ``splitnum``: a tree of [text, value] pairs and nested lists. */
function splitnum(value) {
    for (const [elem, word] of CARDS) {
        if (elem > value) {
            continue;
        }
        const out = [];
        const div = value === 0 ? 1 : Math.floor(value / elem);
        const mod = value === 0 ? 0 : value % elem;
        if (div === 1) {
            out.push(["one", 1]);
        } else {
            out.push(splitnum(div));
        }
        out.push([word, elem]);
        if (mod) {
            out.push(splitnum(mod));
        }
        return out;
    }
}

/** num2words' English ``merge`` of two [text, value] pairs. */
function merge([ltext, lnum], [rtext, rnum]) {
    if (lnum === 1 && rnum < 100) {
        return [rtext, rnum];
    } else if (100 > lnum && lnum > rnum) {
        return [`${ltext}-${rtext}`, lnum + rnum];
    } else if (lnum >= 100 && 100 > rnum) {
        return [`${ltext} and ${rtext}`, lnum + rnum];
    } else if (rnum > lnum) {
        return [`${ltext} ${rtext}`, lnum * rnum];
    }
    return [`${ltext}, ${rtext}`, lnum + rnum];
}

const isPair = (elem) => elem.length === 2 && typeof elem[0] === "string";

/** num2words' ``clean``: merge the tree into one [text, value] pair. */
function clean(val) {
    let out = val;
    while (val.length !== 1) {
        out = [];
        const [left, right] = val;
        if (isPair(left) && isPair(right)) {
            out.push(merge(left, right));
            if (val.length > 2) {
                out.push(val.slice(2));
            }
        } else {
            for (const elem of val) {
                if (!isPair(elem)) {
                    out.push(elem.length === 1 ? elem[0] : clean(elem));
                } else {
                    out.push(elem);
                }
            }
        }
        val = out;
    }
    return out[0];
}

/** 'six hundred and seventy-eight' → 'Six Hundred and Seventy-Eight' ("and" stays lower case). */
function title(words) {
    return words
        .replaceAll(",", " ")
        .split(/\s+/)
        .filter(Boolean)
        .map((word) =>
            word === "and"
                ? word
                : word
                      .split("-")
                      .map((part) => part.slice(0, 1).toUpperCase() + part.slice(1))
                      .join("-")
        )
        .join(" ");
}

/** A non-negative integer in Indian numbering, title case ("Twelve Lakh Thirty-Four Thousand"). */
export function integerInWords(number) {
    if (!Number.isSafeInteger(number) || number < 0) {
        throw new Error(`${number} is not a non-negative integer`);
    }
    if (number >= CRORE) {
        const head = Math.floor(number / CRORE);
        const tail = number % CRORE;
        const words = `${integerInWords(head)} Crore`;
        return tail ? `${words} ${integerInWords(tail)}` : words;
    }
    return title(clean(splitnum(number))[0]);
}

/**
 * A number as [sign, whole, hundredths] rounded half-up to 2 decimals on its shortest decimal
 * representation (as Python rounds ``Decimal(repr(float))``: 1.005 → 1.01, not 1.00).
 */
function toPaise(amount) {
    const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(amount));
    if (!match) {
        throw new Error(`${amount} is not an amount`);
    }
    const [, sign, intPart, fracPart = "", exp = "0"] = match;
    // shift the decimal point by the exponent, on the digits
    let digits = intPart + fracPart;
    let point = intPart.length + Number(exp);
    if (point < 0) {
        digits = "0".repeat(-point) + digits;
        point = 0;
    }
    digits = digits.padEnd(point + 3, "0");
    let cents = BigInt(digits.slice(0, point + 2) || "0");
    if (Number(digits[point + 2]) >= 5) {
        cents += 1n;
    }
    return [sign === "-" && cents > 0n ? -1 : 1, Number(cents / 100n), Number(cents % 100n)];
}

/**
 * ``amount`` (a number) in words, e.g. "Rupees One Hundred and Ninety Paise Only": rounded
 * half-up to paise; no paise: "Rupees Five Only"; negative: "Minus Rupees ...".
 */
export function indianAmountInWords(amount) {
    const [sign, whole, paise] = toPaise(amount);
    let text = `${sign < 0 ? "Minus " : ""}Rupees ${integerInWords(whole)}`;
    if (paise) {
        text += ` and ${integerInWords(paise)} Paise`;
    }
    return `${text} Only`;
}
