//! 规则清单:每一课的章节里写明的每一条要求(「必须」「要」「不能」的那种句子),
//! 由哪几项检查来查,又有哪些故意写错的程序违反了它。
//!
//! 清单写在每一课的评分器旁边(`LESSON.rules`)。`course dev check` 和评分框架的自测都用
//! [`problems`] 核对它:每条规则都有检查、有违反它的例子,例子确实在那条规则的检查上失败,
//! 章节里还一字不差地写着这条规则,每一项检查也都至少查着一条规则。课本里「评分器检查什么」
//! 那张表由 [`render`] 从清单生成:学员看得到要求的全部,老师看得到评的是什么。

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::fixtures::{self, Expect};
use crate::grader::Lesson;

/// 章节里的一条规则,以及评分器怎么检查它。
pub struct Rule {
    /// 在这一课里唯一的短名字,比如 `"reply-exact"`。
    pub id: &'static str,
    /// 一句话说出这条规则(课本表格的第一列)。
    pub rule: &'static str,
    /// 章节里陈述它的原话,一字不差(空白除外)的一段:章节改写时丢了它,核对就会失败,
    /// 提醒你同时改清单、检查和章节。
    pub says: &'static str,
    /// 检查它的项,编号从 1 开始。
    pub checks: &'static [usize],
    /// 违反它的例子:`harness::fixtures::CASES` 里的程序名,每一个都必须在 `checks` 之一上失败。
    pub broken_by: &'static [&'static str],
}

/// 核对第 `lesson` 课的规则清单;`chapter` 是章节的全文。返回发现的问题,没有问题时为空。
pub fn problems(lesson: &Lesson, chapter: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if lesson.rules.is_empty() {
        problems.push("还没有规则清单(LESSON.rules 是空的)".to_owned());
    }
    let chapter = squeeze(chapter);
    let mut ids = BTreeSet::new();
    for rule in lesson.rules {
        let id = rule.id;
        if !ids.insert(id) {
            problems.push(format!("规则 {id} 出现了两次"));
        }
        if rule.checks.is_empty() {
            problems.push(format!("规则 {id} 没有检查"));
        }
        for &check in rule.checks {
            if check == 0 || check > lesson.steps.len() {
                problems.push(format!(
                    "规则 {id} 说由第 {check} 项检查,可这一课只有 {} 项",
                    lesson.steps.len()
                ));
            }
        }
        if !chapter.contains(&squeeze(rule.says)) {
            problems.push(format!(
                "规则 {id} 的原话不在 {} 里了:「{}」",
                lesson.chapter, rule.says
            ));
        }
        if rule.broken_by.is_empty() {
            problems.push(format!("规则 {id} 没有违反它的例子"));
        }
        for &program in rule.broken_by {
            match failing_check(lesson, program) {
                None => problems.push(format!(
                    "规则 {id} 的例子 {program} 不在 harness::fixtures 里,\
                     或者不是第 {} 课的一个失败的例子",
                    lesson.display_number()
                )),
                Some(check) if !rule.checks.contains(&check) => problems.push(format!(
                    "规则 {id} 的例子 {program} 在第 {check} 项失败,不在这条规则的检查 {:?} 里",
                    rule.checks
                )),
                Some(_) => {}
            }
        }
    }
    for check in 1..=lesson.steps.len() {
        if !lesson.rules.iter().any(|r| r.checks.contains(&check)) {
            problems.push(format!(
                "第 {check} 项检查「{}」不查任何一条规则",
                lesson.steps[check - 1].name
            ));
        }
    }
    problems
}

/// 这个例子在第几项检查失败(按这一课完整的编号)。
fn failing_check(lesson: &Lesson, program: &str) -> Option<usize> {
    fixtures::of(lesson)
        .filter(|case| case.program == program)
        .find_map(|case| match case.expect {
            Expect::Fails { check, .. } => Some(case.skip + check),
            Expect::Passes => None,
        })
}

/// 课本里「评分器检查什么」那张表(Markdown),由清单生成。
pub fn render(lesson: &Lesson) -> String {
    let mut out = String::from(
        "<!-- 由 `cargo run -p course -- dev rules` 从评分器的规则清单生成,不要手改。 -->\n\n\
         | 规则 | 由哪几项检查 | 评分器自测里违反它的写法 |\n| --- | --- | --- |\n",
    );
    for rule in lesson.rules {
        let checks = rule
            .checks
            .iter()
            .map(|n| format!("第 {n} 项"))
            .collect::<Vec<_>>()
            .join("、");
        let mistakes = rule
            .broken_by
            .iter()
            .filter_map(|program| fixtures::CASES.iter().find(|c| c.program == *program))
            .map(|case| case.mistake)
            .collect::<Vec<_>>()
            .join("；");
        let _ = writeln!(out, "| {} | {checks} | {mistakes} |", cell(rule.rule));
    }
    // 只列在每个系统上都正确的程序(说明以「（正确）」开头):有的例子只在 Windows 上错
    // (比如只认 WouldBlock 的读超时),在别的系统上全部通过,却不是该学的写法。
    let right: Vec<&str> = fixtures::of(lesson)
        .filter(|case| matches!(case.expect, Expect::Passes))
        .filter_map(|case| case.mistake.strip_prefix("（正确）"))
        .collect();
    if !right.is_empty() {
        let _ = write!(
            out,
            "\n写法不同、但完全正确的程序也在自测里，它们必须全部通过：{}。\n",
            right.join("；")
        );
    }
    out
}

/// 表格里的一格:竖线要转义。
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// 去掉所有空白:章节里的原话可能被换行、缩进打断。
fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}
