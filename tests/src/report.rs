//! 评分结果:每一步通过与否,给人看的一览,以及给程序读的一行 JSON。

use std::fmt::Write as _;

/// 一步的结果。
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Passed,
    Failed,
    NotRun,
    /// 这台机器上做不了这一项检查(原因在 `headline` 里):不计分,也不计入总分。
    Skipped,
}

/// 一步的记录。
#[derive(Debug, Clone)]
pub struct StepReport {
    pub number: usize,
    pub name: &'static str,
    pub points: u32,
    pub status: Status,
    pub millis: u128,
    /// 做了几次:评分器自己在检查期间被耽搁、结论不可信时会重做(见 `crate::stall`),平时是 1。
    pub attempts: usize,
    /// 失败时完整的诊断信息(已渲染)。
    pub message: Option<String>,
    /// 失败时的一句话原因。
    pub headline: Option<String>,
}

impl StepReport {
    /// 一项还没有运行(或者结果不报告)的检查。
    pub fn not_run(number: usize, step: &crate::grader::Step) -> StepReport {
        StepReport {
            number,
            name: step.name,
            points: step.points,
            status: Status::NotRun,
            millis: 0,
            attempts: 0,
            message: None,
            headline: None,
        }
    }
}

/// 一课的评分结果。
#[derive(Debug, Clone)]
pub struct Report {
    pub lesson: &'static str,
    pub title: &'static str,
    pub program: String,
    pub steps: Vec<StepReport>,
}

impl Report {
    /// 第一个没通过的步骤。
    pub fn first_failure(&self) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.status == Status::Failed)
    }

    pub fn passed(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.status == Status::Passed)
            .count()
    }

    /// (得分, 总分)。跳过的检查两边都不算。
    pub fn points(&self) -> (u32, u32) {
        let earned = self
            .steps
            .iter()
            .filter(|s| s.status == Status::Passed)
            .map(|s| s.points)
            .sum();
        let total = self
            .steps
            .iter()
            .filter(|s| s.status != Status::Skipped)
            .map(|s| s.points)
            .sum();
        (earned, total)
    }

    /// 跳过的检查数。
    pub fn skipped(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.status == Status::Skipped)
            .count()
    }

    /// 一览:每一步一行。
    pub fn summary(&self) -> String {
        let mut out = format!(
            "第 {} 课 · {}:通过 {}/{} 项检查\n",
            self.lesson.trim_start_matches('0'),
            self.title,
            self.passed(),
            self.steps.len()
        );
        for step in &self.steps {
            let mark = match step.status {
                Status::Passed => "✓",
                Status::Failed => "✗",
                Status::NotRun => "·",
                Status::Skipped => "○",
            };
            let _ = write!(out, "  {mark} 第 {} 项 {}", step.number, step.name);
            if step.status == Status::Skipped {
                let why = step.headline.as_deref().unwrap_or_default();
                let _ = write!(out, "(跳过:{why})");
            }
            out.push('\n');
        }
        out
    }

    /// 给学员看的全文:一览,加上每个失败步骤的诊断(默认只有一个)和下一步该做什么。
    pub fn explain(&self) -> String {
        self.explain_then(&format!("改好以后再运行: cargo test -p {}", self.program))
    }

    /// 同 [`Report::explain`],但最后一句(有失败时「下一步做什么」)由调用方给出,
    /// 比如 `course watch` 说「保存文件就会重新评分」。
    pub fn explain_then(&self, next: &str) -> String {
        let failures: Vec<&str> = self
            .steps
            .iter()
            .filter_map(|s| s.message.as_deref())
            .collect();
        if failures.is_empty() {
            return match self.skipped() {
                0 => format!("{}全部通过!", self.summary()),
                n => format!(
                    "{}其余各项全部通过!(有 {n} 项在这台机器上做不了,跳过了,见上面)",
                    self.summary()
                ),
            };
        }
        format!(
            "\n{}\n{}\n\n{next}\n",
            self.summary(),
            failures.join("\n\n────────\n\n"),
        )
    }

    /// 一行 JSON,给 `course` 之类的程序读。
    pub fn to_json(&self) -> String {
        let steps: Vec<String> = self
            .steps
            .iter()
            .map(|s| {
                let status = match s.status {
                    Status::Passed => "passed",
                    Status::Failed => "failed",
                    Status::NotRun => "not_run",
                    Status::Skipped => "skipped",
                };
                format!(
                    "{{\"number\":{},\"name\":{},\"points\":{},\"status\":\"{status}\",\"millis\":{},\"attempts\":{},\"headline\":{},\"message\":{}}}",
                    s.number,
                    json_string(s.name),
                    s.points,
                    s.millis,
                    s.attempts,
                    s.headline.as_deref().map_or("null".to_owned(), json_string),
                    s.message.as_deref().map_or("null".to_owned(), json_string),
                )
            })
            .collect();
        let (earned, total) = self.points();
        format!(
            "{{\"lesson\":{},\"title\":{},\"program\":{},\"passed\":{},\"total\":{},\"points\":{earned},\"max_points\":{total},\"steps\":[{}]}}",
            json_string(self.lesson),
            json_string(self.title),
            json_string(&self.program),
            self.passed(),
            self.steps.len(),
            steps.join(",")
        )
    }
}

/// JSON 字符串(带引号,按 RFC 8259 转义)。
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
