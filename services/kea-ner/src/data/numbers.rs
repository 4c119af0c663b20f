//! Numbers as callers say them, in English and Spanish: counts, phone numbers and house numbers.

use rand::Rng;
use rand::rngs::StdRng;

use super::generator::Lang;

const EN_SMALL: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];

const EN_TENS: [&str; 10] = [
    "", "ten", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

const ES_SMALL: [&str; 30] = [
    "cero",
    "uno",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "once",
    "doce",
    "trece",
    "catorce",
    "quince",
    "dieciséis",
    "diecisiete",
    "dieciocho",
    "diecinueve",
    "veinte",
    "veintiuno",
    "veintidós",
    "veintitrés",
    "veinticuatro",
    "veinticinco",
    "veintiséis",
    "veintisiete",
    "veintiocho",
    "veintinueve",
];

const ES_TENS: [&str; 10] = [
    "",
    "diez",
    "veinte",
    "treinta",
    "cuarenta",
    "cincuenta",
    "sesenta",
    "setenta",
    "ochenta",
    "noventa",
];

const ES_HUNDREDS: [&str; 10] = [
    "",
    "ciento",
    "doscientos",
    "trescientos",
    "cuatrocientos",
    "quinientos",
    "seiscientos",
    "setecientos",
    "ochocientos",
    "novecientos",
];

/// `n` in English words ("forty two", "one hundred five", "two thousand twenty").
pub(crate) fn en_words(n: u32) -> String {
    match n {
        0..20 => EN_SMALL[n as usize].to_owned(),
        20..100 => {
            let tens = EN_TENS[(n / 10) as usize];
            match n % 10 {
                0 => tens.to_owned(),
                unit => format!("{tens} {}", EN_SMALL[unit as usize]),
            }
        }
        100..1000 => match n % 100 {
            0 => format!("{} hundred", EN_SMALL[(n / 100) as usize]),
            rest => format!(
                "{} hundred {}",
                EN_SMALL[(n / 100) as usize],
                en_words(rest)
            ),
        },
        _ => match n % 1000 {
            0 => format!("{} thousand", en_words(n / 1000)),
            rest => format!("{} thousand {}", en_words(n / 1000), en_words(rest)),
        },
    }
}

/// `n` in Spanish words ("cuarenta y dos", "ciento cinco", "dos mil veinte").
pub(crate) fn es_words(n: u32) -> String {
    match n {
        0..30 => ES_SMALL[n as usize].to_owned(),
        30..100 => {
            let tens = ES_TENS[(n / 10) as usize];
            match n % 10 {
                0 => tens.to_owned(),
                unit => format!("{tens} y {}", ES_SMALL[unit as usize]),
            }
        }
        100 => "cien".to_owned(),
        101..1000 => match n % 100 {
            0 => ES_HUNDREDS[(n / 100) as usize].to_owned(),
            rest => format!("{} {}", ES_HUNDREDS[(n / 100) as usize], es_words(rest)),
        },
        _ => {
            let thousands = if n / 1000 == 1 {
                "mil".to_owned()
            } else {
                format!("{} mil", es_words(n / 1000))
            };
            match n % 1000 {
                0 => thousands,
                rest => format!("{thousands} {}", es_words(rest)),
            }
        }
    }
}

/// `n` in words of the language.
pub(crate) fn words(lang: Lang, n: u32) -> String {
    match lang {
        Lang::En => en_words(n),
        Lang::Es => es_words(n),
    }
}

/// A ten-digit North American number (the stores' callers), made of an area code, an exchange
/// and a line number; the 555-01xx exchange keeps generated numbers fictional.
pub(crate) fn phone_digits(rng: &mut StdRng) -> String {
    const AREAS: &[u32] = &[
        212, 213, 214, 305, 312, 347, 404, 415, 469, 503, 512, 555, 602, 617, 646, 702, 713, 718,
        773, 786, 818, 832, 909, 917, 956,
    ];
    let area = AREAS[rng.random_range(0..AREAS.len())];
    let line: u32 = rng.random_range(100..200);
    let exchange = if rng.random_bool(0.5) {
        555
    } else {
        rng.random_range(201..999)
    };
    format!("{area}{exchange}{line:04}")
}

/// One digit as a word; English zero is "oh" as often as "zero".
fn digit_word(rng: &mut StdRng, lang: Lang, digit: u32) -> String {
    match (lang, digit) {
        (Lang::En, 0) if rng.random_bool(0.6) => "oh".to_owned(),
        _ => words(lang, digit),
    }
}

/// A group of digits read one by one: "five five five".
fn spoken_digits(rng: &mut StdRng, lang: Lang, group: &str) -> String {
    group
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| digit_word(rng, lang, d))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Four digits read as two pairs, as people often read a line number: "forty four seventy seven",
/// "twelve oh five", "cuarenta y cuatro setenta y siete".
fn spoken_pairs(rng: &mut StdRng, lang: Lang, group: &str) -> String {
    let digits: Vec<u32> = group.chars().filter_map(|c| c.to_digit(10)).collect();
    let [a, b, c, d] = digits.as_slice() else {
        return spoken_digits(rng, lang, group);
    };
    let pair = |rng: &mut StdRng, hi: u32, lo: u32| {
        if hi == 0 {
            format!("{} {}", digit_word(rng, lang, 0), words(lang, lo))
        } else {
            words(lang, hi * 10 + lo)
        }
    };
    format!("{} {}", pair(rng, *a, *b), pair(rng, *c, *d))
}

/// A phone number in one of the ways it reaches the model: digits in groups with spaces, dashes,
/// dots or parentheses, run together, or spoken digit by digit or in pairs, sometimes with the
/// country code or without the area code.
pub(crate) fn phone(rng: &mut StdRng, lang: Lang) -> String {
    let digits = phone_digits(rng);
    let (area, exchange, line) = (&digits[0..3], &digits[3..6], &digits[6..10]);
    let local_only = rng.random_bool(0.08);
    match rng.random_range(0..10) {
        0 => format!("{area}-{exchange}-{line}"),
        1 => format!("({area}) {exchange}-{line}"),
        2 => digits.clone(),
        3 if !local_only => format!("1 {area} {exchange} {line}"),
        4 => format!("{area}.{exchange}.{line}"),
        5..=7 => {
            let sep = if rng.random_bool(0.5) { ", " } else { " " };
            let last = if rng.random_bool(0.3) {
                spoken_pairs(rng, lang, line)
            } else {
                spoken_digits(rng, lang, line)
            };
            let head = spoken_digits(rng, lang, exchange);
            if local_only {
                format!("{head}{sep}{last}")
            } else {
                let area = spoken_digits(rng, lang, area);
                format!("{area}{sep}{head}{sep}{last}")
            }
        }
        _ if local_only => format!("{exchange} {line}"),
        _ => format!("{area} {exchange} {line}"),
    }
}

/// A house number in digits or as people say it: "1234", "twelve thirty four", "one two three
/// four", "fifteen hundred", "doce treinta y cuatro".
pub(crate) fn house_number(rng: &mut StdRng, lang: Lang) -> String {
    let n: u32 = match rng.random_range(0..10) {
        0..=2 => rng.random_range(1..100),
        3..=5 => rng.random_range(100..1000),
        6..=8 => rng.random_range(1000..10000),
        _ => rng.random_range(10000..30000),
    };
    if rng.random_bool(0.65) {
        return n.to_string();
    }
    let text = n.to_string();
    match n {
        0..100 => words(lang, n),
        1000..10000 if n.is_multiple_of(100) && !n.is_multiple_of(1000) && lang == Lang::En => {
            format!("{} hundred", en_words(n / 100))
        }
        1000..10000 if rng.random_bool(0.7) => spoken_pairs(rng, lang, &text),
        100..1000 if rng.random_bool(0.6) => {
            let rest = n % 100;
            let rest = if rest < 10 {
                format!("{} {}", digit_word(rng, lang, 0), words(lang, rest))
            } else {
                words(lang, rest)
            };
            format!("{} {rest}", words(lang, n / 100))
        }
        _ => spoken_digits(rng, lang, &text),
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn english_words() {
        let cases = [
            (0, "zero"),
            (7, "seven"),
            (13, "thirteen"),
            (20, "twenty"),
            (42, "forty two"),
            (100, "one hundred"),
            (105, "one hundred five"),
            (2020, "two thousand twenty"),
        ];
        for (n, said) in cases {
            assert_eq!(en_words(n), said);
        }
    }

    #[test]
    fn spanish_words() {
        let cases = [
            (1, "uno"),
            (16, "dieciséis"),
            (22, "veintidós"),
            (30, "treinta"),
            (44, "cuarenta y cuatro"),
            (100, "cien"),
            (115, "ciento quince"),
            (500, "quinientos"),
            (1000, "mil"),
            (2030, "dos mil treinta"),
        ];
        for (n, said) in cases {
            assert_eq!(es_words(n), said);
        }
    }

    #[test]
    fn phones_have_digits_or_number_words() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..500 {
            let said = phone(&mut rng, Lang::En);
            assert!(!said.is_empty() && !said.starts_with(' ') && !said.ends_with(' '));
            assert!(
                said.chars().any(|c| c.is_ascii_digit()) || said.contains("five") || {
                    said.split([' ', ',']).filter(|w| !w.is_empty()).count() >= 5
                }
            );
        }
    }

    #[test]
    fn pairs_read_a_leading_zero_as_oh_or_zero() {
        let mut rng = StdRng::seed_from_u64(1);
        let said = spoken_pairs(&mut rng, Lang::En, "1205");
        assert!(
            said == "twelve oh five" || said == "twelve zero five",
            "{said}"
        );
        assert_eq!(
            spoken_pairs(&mut rng, Lang::Es, "4477"),
            "cuarenta y cuatro setenta y siete"
        );
    }
}
