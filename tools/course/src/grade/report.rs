//! 一份提交的成绩,给人看的表格、给程序读的 JSON 和给电子表格的 CSV。

use clap_zh::say;
use harness::report::json_string;

use super::{LessonGrade, SubmissionGrade};

/// 输出格式。
#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// 给人看的表格
    Table,
    /// 给程序读的 JSON
    Json,
    /// 给电子表格用的 CSV
    Csv,
}

/// 把每次运行都不一样的东西(端口号)换掉,同一份提交评两次,报告一字不差。
pub(super) fn stable(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("127.0.0.1:") {
        let (before, after) = rest.split_at(at + "127.0.0.1:".len());
        out.push_str(before);
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        out.push_str(if digits > 0 { "<端口>" } else { "" });
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// 一项检查的结果在一行里的记号:通过 ✓、没通过 ✗、这台机器上跳过 ○、没有运行 ·。
pub(super) fn mark(status: &str) -> char {
    match status {
        "passed" => '✓',
        "failed" => '✗',
        "skipped" => '○',
        _ => '·',
    }
}

fn change_words(change: &str) -> &'static str {
    match change {
        "added" => "新加的",
        "removed" => "删掉了",
        _ => "改动过",
    }
}

pub(super) fn print_table(source: Option<&str>, grade: &SubmissionGrade) {
    let (grades, tampered) = (&grade.lessons, &grade.tampered);
    if let Some(source) = source {
        say!("提交:{source}");
    }
    say!("评分器:本仓库的原版(学员的 tests/ 和 Cargo.toml 一律不用)");
    say!("沙箱:{}\n", grade.sandbox);
    for grade in grades {
        let marks: String = grade.checks.iter().map(|c| mark(c.status)).collect();
        let note = if grade.compile_error.is_some() {
            "  编译失败"
        } else if grade.missing {
            "  没有提交(评的是骨架)"
        } else {
            ""
        };
        say!(
            "  {:>3}/{:<3} {marks:<14} {}{note}",
            grade.earned(),
            grade.max(),
            grade.title
        );
    }
    let earned: u32 = grades.iter().map(LessonGrade::earned).sum();
    let max: u32 = grades.iter().map(LessonGrade::max).sum();
    say!("\n  总分 {earned}/{max}");
    if grade.timed_out {
        say!("\n超时:编译或评分超过了时限,没评完的项记为没有通过。");
    }
    if let Some(error) = &grade.error {
        say!("\n评分出错:{error}");
    }
    if !grade.events.is_empty() {
        say!("\n沙箱拦下了这些事(这份提交可能有恶意,请读一读它的代码):");
        for event in &grade.events {
            say!("  {event}");
        }
    }

    let failed: Vec<_> = grades
        .iter()
        .flat_map(|g| {
            g.checks
                .iter()
                .filter(|c| c.status == "failed")
                .map(move |c| (g, c))
        })
        .collect();
    if !failed.is_empty() {
        say!("\n没通过的检查:");
        for (grade, check) in failed {
            say!(
                "  第 {} 课第 {} 项「{}」:{}",
                grade.number.trim_start_matches('0'),
                check.number,
                check.name,
                check.headline.as_deref().unwrap_or("")
            );
        }
    }
    for grade in grades {
        if let Some(error) = &grade.compile_error {
            say!("\n{} 编译失败:\n{error}", grade.title);
        }
    }
    if let Some(_source) = source {
        if tampered.is_empty() {
            say!("\n改动报告:评分用到的文件和原版一样。");
        } else {
            say!("\n改动报告:这些评分用到的文件和原版不一样(评分时没有用它们,用的是原版):");
            for t in tampered {
                say!("  {} {}", change_words(t.change), t.path);
            }
        }
    }
}

pub(super) fn to_json(source: Option<&str>, grade: &SubmissionGrade) -> String {
    let (grades, tampered) = (&grade.lessons, &grade.tampered);
    let lessons: Vec<String> = grades
        .iter()
        .map(|g| {
            let checks: Vec<String> = g
                .checks
                .iter()
                .map(|c| {
                    format!(
                        "{{\"number\":{},\"name\":{},\"points\":{},\"earned\":{},\"status\":\"{}\",\"headline\":{}}}",
                        c.number,
                        json_string(c.name),
                        c.max,
                        c.earned(),
                        c.status,
                        c.headline.as_deref().map_or("null".to_owned(), json_string)
                    )
                })
                .collect();
            format!(
                "{{\"lesson\":\"{}\",\"title\":{},\"compiled\":{},\"submitted\":{},\"earned\":{},\"points\":{},\"checks\":[{}]}}",
                g.number,
                json_string(&g.title),
                g.compile_error.is_none(),
                !g.missing,
                g.earned(),
                g.max(),
                checks.join(",")
            )
        })
        .collect();
    let tampered: Vec<String> = tampered
        .iter()
        .map(|t| {
            format!(
                "{{\"path\":{},\"change\":\"{}\"}}",
                json_string(&t.path),
                t.change
            )
        })
        .collect();
    format!(
        "{{\"submission\":{},\"sandbox\":\"{}\",\"events\":[{}],\"earned\":{},\"points\":{},\"lessons\":[{}],\"tampered\":[{}]}}",
        source.map_or("null".to_owned(), json_string),
        grade.sandbox,
        grade
            .events
            .iter()
            .map(|e| json_string(e))
            .collect::<Vec<_>>()
            .join(","),
        grades.iter().map(LessonGrade::earned).sum::<u32>(),
        grades.iter().map(LessonGrade::max).sum::<u32>(),
        lessons.join(","),
        tampered.join(",")
    )
}

pub(super) fn to_csv(grades: &[LessonGrade]) -> String {
    let mut out = "lesson,check,name,status,earned,points\n".to_owned();
    for g in grades {
        for c in &g.checks {
            out += &format!(
                "{},{},{},{},{},{}\n",
                g.number,
                c.number,
                csv_field(c.name),
                c.status,
                c.earned(),
                c.max
            );
        }
    }
    let earned: u32 = grades.iter().map(LessonGrade::earned).sum();
    let max: u32 = grades.iter().map(LessonGrade::max).sum();
    out += &format!("total,,,,{earned},{max}\n");
    out
}

/// CSV 的一个字段:有逗号、引号或换行时加引号,引号写两遍。
pub(super) fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_hidden_so_reports_are_stable() {
        assert_eq!(
            stable("连不上服务器 127.0.0.1:40123"),
            "连不上服务器 127.0.0.1:<端口>"
        );
        assert_eq!(stable("没有端口"), "没有端口");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("普通"), "普通");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("说\"你好\""), "\"说\"\"你好\"\"\"");
    }
}
