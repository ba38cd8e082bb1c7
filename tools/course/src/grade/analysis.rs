//! 逐项分析:每一课的每一项检查,全班的通过率、最常见的失败原因、有多少人停在这一项
//! (这一课里第一个没通过的就是它)。老师看它就知道课上该多讲哪里。

use clap_zh::say;
use std::collections::BTreeMap;

use super::gradebook::{Book, Status};

/// 一项检查的分析。
pub(super) struct Item {
    pub number: usize,
    pub name: &'static str,
    pub passed: usize,
    /// 参与统计的人数(这一课有结果的学员)。
    pub total: usize,
    /// 这一课里第一个没通过的是这一项的人数。
    pub stopped: usize,
    /// 最常见的失败原因和人数。
    pub top_failure: Option<(String, usize)>,
}

impl Item {
    pub fn rate(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.passed as f64 / self.total as f64
        }
    }
}

/// 一课的分析。
pub(super) struct LessonItems {
    pub number: &'static str,
    pub title: String,
    pub students: usize,
    pub not_submitted: usize,
    pub not_compiled: usize,
    pub items: Vec<Item>,
}

/// 统计所有评了分的学员(读不了的、评分出错的不算)。
pub(super) fn analyse(book: &Book) -> Vec<LessonItems> {
    let graded: Vec<_> = book
        .students
        .iter()
        .filter(|s| !matches!(s.status, Status::Unreadable | Status::Error))
        .collect();
    book.lessons
        .iter()
        .map(|lesson| {
            let grades: Vec<_> = graded
                .iter()
                .filter_map(|s| s.lessons().iter().find(|l| l.number == lesson.number))
                .collect();
            let items = lesson
                .steps
                .iter()
                .enumerate()
                .map(|(i, step)| {
                    let mut failures: BTreeMap<&str, usize> = BTreeMap::new();
                    let mut passed = 0;
                    let mut stopped = 0;
                    let mut total = 0;
                    for grade in &grades {
                        // 这台机器上跳过了的检查,不算进通过率。
                        let Some(check) = grade.checks.get(i).filter(|c| c.status != "skipped")
                        else {
                            continue;
                        };
                        total += 1;
                        if check.status == "passed" {
                            passed += 1;
                        } else if let Some(headline) = &check.headline {
                            *failures.entry(headline).or_default() += 1;
                        }
                        let first = grade
                            .checks
                            .iter()
                            .position(|c| !matches!(c.status, "passed" | "skipped"));
                        if first == Some(i) {
                            stopped += 1;
                        }
                    }
                    // 人数最多的原因;一样多时取字典序靠前的,结果才稳定。
                    let top_failure = failures
                        .into_iter()
                        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
                        .map(|(h, n)| (h.to_owned(), n));
                    Item {
                        number: i + 1,
                        name: step.name,
                        passed,
                        total,
                        stopped,
                        top_failure,
                    }
                })
                .collect();
            LessonItems {
                number: lesson.number,
                title: format!("第 {} 课 · {}", lesson.display_number(), lesson.title),
                students: grades.len(),
                not_submitted: grades.iter().filter(|g| g.missing).count(),
                not_compiled: grades
                    .iter()
                    .filter(|g| !g.missing && g.compile_error.is_some())
                    .count(),
                items,
            }
        })
        .collect()
}

/// 在终端里打印逐项分析和各种状态的人数。
pub(super) fn print(book: &Book, lessons: &[LessonItems]) {
    say!("逐项分析(通过率 · 停在这一项的人数 · 最常见的失败原因)");
    for lesson in lessons {
        say!(
            "\n{}({} 人;没交 {} 人,编译失败 {} 人)",
            lesson.title,
            lesson.students,
            lesson.not_submitted,
            lesson.not_compiled
        );
        for item in &lesson.items {
            let filled = (item.rate() * 10.0).round() as usize;
            let bar = format!("{}{}", "█".repeat(filled), "░".repeat(10 - filled));
            let top = item
                .top_failure
                .as_ref()
                .map(|(h, n)| format!("{h}({n} 人)"))
                .unwrap_or_default();
            say!(
                "  {:>2}. {bar} {:>3.0}%  停 {:>3}  {}  {top}",
                item.number,
                item.rate() * 100.0,
                item.stopped,
                truncate(item.name, 24),
            );
        }
    }
    let counts: Vec<String> = Status::ALL
        .iter()
        .map(|status| {
            let n = book.students.iter().filter(|s| s.status == *status).count();
            (status, n)
        })
        .filter(|(_, n)| *n > 0)
        .map(|(status, n)| format!("{} {n} 人", status.words()))
        .collect();
    say!("\n共 {} 人:{}", book.students.len(), counts.join(","));
    for student in book.students.iter().filter(|s| s.status != Status::Graded) {
        say!(
            "  {}:{}  {}",
            student.name,
            student.status.words(),
            student.note
        );
    }
}

fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_owned()
    } else {
        text.chars().take(chars - 1).chain(['…']).collect()
    }
}
