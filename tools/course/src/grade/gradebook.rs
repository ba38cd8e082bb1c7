//! 全班的成绩:每个学员的状态和分数,写成 `gradebook.csv`(一人一行)、`report.json`
//! (每个人的每一项检查)、`report.html`(逐项分析)和 `feedback/学员.txt`(可以发给学员的诊断)。
//! `course grade merge` 把几台机器各评的一份合成一份。

use clap_zh::say;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::report::csv_field;
use super::{CheckGrade, LessonGrade, SubmissionGrade, Tampered, analysis, html};
use crate::repo::Repo;

/// 一个学员的状态。
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Status {
    /// 评完了。
    Graded,
    /// 交了的课里,有一课编译失败(这一课 0 分,别的课照常评)。
    BuildFailed,
    /// 编译或评分超过了时限。
    TimedOut,
    /// 沙箱拦下了它做的事(有恶意,或者至少很危险)。
    Contained,
    /// 压缩包读不了,或者里面不像这门课的仓库。
    Unreadable,
    /// 评分器自己出了问题。
    Error,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Graded,
        Status::BuildFailed,
        Status::TimedOut,
        Status::Contained,
        Status::Unreadable,
        Status::Error,
    ];

    /// 写进 CSV 和 JSON 的名字。
    pub fn key(self) -> &'static str {
        match self {
            Status::Graded => "graded",
            Status::BuildFailed => "build_failed",
            Status::TimedOut => "timed_out",
            Status::Contained => "contained",
            Status::Unreadable => "unreadable",
            Status::Error => "error",
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Status::Graded => "已评分",
            Status::BuildFailed => "有课编译失败",
            Status::TimedOut => "超时",
            Status::Contained => "被沙箱拦下",
            Status::Unreadable => "读不了",
            Status::Error => "评分出错",
        }
    }

    fn from_key(key: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// 一个学员的结果。
pub(super) struct Student {
    pub name: String,
    pub status: Status,
    /// 一句话说明(编译失败的是哪几课、沙箱拦下了什么……)。
    pub note: String,
    /// 读不了时是 None。
    pub grade: Option<SubmissionGrade>,
}

impl Student {
    pub fn unreadable(name: &str, why: String) -> Student {
        Student {
            name: name.to_owned(),
            status: Status::Unreadable,
            note: why,
            grade: None,
        }
    }

    /// 由一份提交的结果定出状态和说明。
    pub fn graded(name: &str, grade: SubmissionGrade) -> Student {
        let broken: Vec<&str> = grade
            .lessons
            .iter()
            .filter(|l| !l.missing && l.compile_error.is_some())
            .map(|l| l.number.trim_start_matches('0'))
            .collect();
        let missing: Vec<&str> = grade
            .lessons
            .iter()
            .filter(|l| l.missing)
            .map(|l| l.number.trim_start_matches('0'))
            .collect();
        let (status, note) = if !grade.events.is_empty() {
            let events: Vec<&str> = grade.events.iter().map(String::as_str).collect();
            (Status::Contained, events.join(";"))
        } else if let Some(error) = &grade.error {
            (Status::Error, error.clone())
        } else if grade.timed_out {
            (Status::TimedOut, "编译或评分超过了时限".to_owned())
        } else if !broken.is_empty() {
            (
                Status::BuildFailed,
                format!("编译失败:第 {} 课", broken.join("、")),
            )
        } else if !missing.is_empty() {
            (Status::Graded, format!("没交:第 {} 课", missing.join("、")))
        } else {
            (Status::Graded, String::new())
        };
        Student {
            name: name.to_owned(),
            status,
            note,
            grade: Some(grade),
        }
    }

    pub fn earned(&self) -> u32 {
        self.lessons().iter().map(|l| l.earned()).sum()
    }

    /// 这个学员的满分:这台机器上跳过了的检查不算(和评分框架一样)。
    pub fn max(&self) -> u32 {
        self.lessons().iter().map(|l| l.max()).sum()
    }

    pub fn lessons(&self) -> &[LessonGrade] {
        self.grade.as_ref().map_or(&[], |g| &g.lessons)
    }

    /// 写成 JSON;`messages` 为 true 时带上每一项的完整诊断(缓存用),否则只有一句话原因。
    pub fn to_json(&self, messages: bool) -> Value {
        let grade = self.grade.as_ref();
        let lessons: Vec<Value> = self
            .lessons()
            .iter()
            .map(|l| {
                let checks: Vec<Value> = l
                    .checks
                    .iter()
                    .map(|c| {
                        let mut check = json!({
                            "number": c.number,
                            "name": c.name,
                            "points": c.max,
                            "earned": c.earned(),
                            "status": c.status,
                            "headline": c.headline,
                        });
                        if messages {
                            check["message"] = json!(c.message);
                        }
                        check
                    })
                    .collect();
                json!({
                    "lesson": l.number,
                    "title": l.title,
                    "submitted": !l.missing,
                    "compiled": l.compile_error.is_none(),
                    "compile_error": l.compile_error,
                    "earned": l.earned(),
                    "points": l.max(),
                    "checks": checks,
                })
            })
            .collect();
        json!({
            "name": self.name,
            "status": self.status.key(),
            "note": self.note,
            "sandbox": grade.map(|g| g.sandbox),
            "events": grade.map(|g| g.events.iter().collect::<Vec<_>>()),
            "tampered": grade.map(|g| g.tampered.iter()
                .map(|t| json!({"path": t.path, "change": t.change}))
                .collect::<Vec<_>>()),
            "earned": self.earned(),
            "lessons": lessons,
        })
    }

    /// 从 JSON 读回来(缓存、`merge`)。课和检查按课号、项号对回本仓库的评分器。
    pub fn from_json(value: &Value) -> Result<Student> {
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        let name = text(value, "name").context("缺少 name")?;
        let status = text(value, "status")
            .and_then(|s| Status::from_key(&s))
            .context("status 不对")?;
        let note = text(value, "note").unwrap_or_default();
        if value.get("sandbox").is_none_or(Value::is_null) {
            return Ok(Student {
                name,
                status,
                note,
                grade: None,
            });
        }
        let mut grade = SubmissionGrade {
            sandbox: match text(value, "sandbox").as_deref() {
                Some("bubblewrap") => "bubblewrap",
                Some("limits-only") => "limits-only",
                _ => "none",
            },
            ..SubmissionGrade::default()
        };
        for event in value["events"].as_array().into_iter().flatten() {
            grade.events.extend(event.as_str().map(str::to_owned));
        }
        for t in value["tampered"].as_array().into_iter().flatten() {
            grade.tampered.push(Tampered {
                path: text(t, "path").unwrap_or_default(),
                change: match t["change"].as_str() {
                    Some("added") => "added",
                    Some("removed") => "removed",
                    _ => "modified",
                },
            });
        }
        for l in value["lessons"].as_array().into_iter().flatten() {
            let number = text(l, "lesson").unwrap_or_default();
            let lesson = harness::lesson(&number)
                .with_context(|| format!("本仓库没有第 {number} 课:报告来自别的课程版本?"))?;
            let mut checks = Vec::new();
            for c in l["checks"].as_array().into_iter().flatten() {
                let n = c["number"].as_u64().unwrap_or(0) as usize;
                let step = n
                    .checked_sub(1)
                    .and_then(|i| lesson.steps.get(i))
                    .with_context(|| {
                        format!("第 {number} 课没有第 {n} 项:报告来自别的课程版本?")
                    })?;
                checks.push(CheckGrade {
                    number: n,
                    name: step.name,
                    max: c["points"].as_u64().unwrap_or(0) as u32,
                    status: match c["status"].as_str() {
                        Some("passed") => "passed",
                        Some("failed") => "failed",
                        Some("skipped") => "skipped",
                        _ => "not_run",
                    },
                    headline: text(c, "headline"),
                    message: text(c, "message"),
                });
            }
            grade.lessons.push(LessonGrade {
                number: lesson.number,
                title: text(l, "title").unwrap_or_default(),
                compile_error: text(l, "compile_error"),
                missing: !l["submitted"].as_bool().unwrap_or(true),
                checks,
            });
        }
        Ok(Student {
            name,
            status,
            note,
            grade: Some(grade),
        })
    }
}

/// 一份成绩册:评的是哪几课、每一项几分,以及每个学员。
pub(super) struct Book {
    pub lessons: Vec<&'static harness::Lesson>,
    /// 每一课每一项的分值(可能被分值文件改过),和 `lessons` 对齐。
    pub points: Vec<Vec<u32>>,
    pub students: Vec<Student>,
    /// 用的沙箱(几台机器合起来时,可能不止一种)。
    pub sandboxes: BTreeSet<String>,
    /// 只评了其中一份时是 (K, N)。
    pub shard: Option<(usize, usize)>,
}

impl Book {
    pub fn max(&self) -> u32 {
        self.points.iter().flatten().sum()
    }

    fn to_json(&self) -> Value {
        let lessons: Vec<Value> = self
            .lessons
            .iter()
            .zip(&self.points)
            .map(|(lesson, points)| {
                let checks: Vec<Value> = lesson
                    .steps
                    .iter()
                    .zip(points)
                    .enumerate()
                    .map(|(i, (step, p))| json!({"number": i + 1, "name": step.name, "points": p}))
                    .collect();
                json!({"lesson": lesson.number, "title": lesson.title, "points": points.iter().sum::<u32>(), "checks": checks})
            })
            .collect();
        json!({
            "format": 1,
            "sandbox": self.sandboxes,
            "shard": self.shard.map(|(k, n)| format!("{k}/{n}")),
            "points": self.max(),
            "lessons": lessons,
            "students": self.students.iter().map(|s| s.to_json(false)).collect::<Vec<_>>(),
        })
    }

    fn from_json(value: &Value) -> Result<Book> {
        let mut lessons = Vec::new();
        let mut points = Vec::new();
        for l in value["lessons"].as_array().context("缺少 lessons")? {
            let number = l["lesson"].as_str().unwrap_or_default();
            lessons.push(
                harness::lesson(number).with_context(|| format!("本仓库没有第 {number} 课"))?,
            );
            points.push(
                l["checks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| c["points"].as_u64().unwrap_or(0) as u32)
                    .collect(),
            );
        }
        let students = value["students"]
            .as_array()
            .context("缺少 students")?
            .iter()
            .map(Student::from_json)
            .collect::<Result<_>>()?;
        let sandboxes = value["sandbox"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect();
        Ok(Book {
            lessons,
            points,
            students,
            sandboxes,
            shard: None,
        })
    }

    /// gradebook.csv:一人一行,每课的得分、总分、满分、状态和说明。
    pub fn csv(&self) -> String {
        let mut out = "student,status".to_owned();
        for lesson in &self.lessons {
            let _ = write!(out, ",{}", lesson.number);
        }
        out += ",total,max,note\n";
        for student in &self.students {
            let _ = write!(out, "{},{}", csv_field(&student.name), student.status.key());
            for lesson in &self.lessons {
                let earned = student
                    .lessons()
                    .iter()
                    .find(|l| l.number == lesson.number)
                    .map(|l| l.earned().to_string());
                let _ = write!(out, ",{}", earned.unwrap_or_default());
            }
            let (total, max) = if student.grade.is_some() {
                (student.earned().to_string(), student.max())
            } else {
                (String::new(), self.max())
            };
            let _ = writeln!(out, ",{total},{max},{}", csv_field(&student.note));
        }
        out
    }

    /// 把成绩册、报告、网页和每个人的反馈写进 `out`。
    pub fn write(&self, out: &Path) -> Result<()> {
        fs::create_dir_all(out.join("feedback"))
            .with_context(|| format!("无法创建 {}", out.display()))?;
        fs::write(out.join("gradebook.csv"), self.csv())?;
        fs::write(
            out.join("report.json"),
            serde_json::to_string_pretty(&self.to_json())? + "\n",
        )?;
        let items = analysis::analyse(self);
        fs::write(out.join("report.html"), html::render(self, &items))?;
        for student in &self.students {
            fs::write(
                out.join("feedback")
                    .join(format!("{}.txt", file_name(&student.name))),
                feedback(student),
            )?;
        }
        Ok(())
    }
}

/// 学员的名字做文件名:去掉路径分隔符之类的字符。
fn file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// 给一个学员的反馈:每一课的分数,每个没通过的检查的完整诊断。可以直接发给学员。
pub(super) fn feedback(student: &Student) -> String {
    let mut out = format!("{}:{}", student.name, student.status.words());
    if !student.note.is_empty() {
        let _ = write!(out, "({})", student.note);
    }
    out.push('\n');
    for lesson in student.lessons() {
        let marks: String = lesson
            .checks
            .iter()
            .map(|c| match c.status {
                "passed" => '✓',
                "failed" => '✗',
                "skipped" => '○',
                _ => '·',
            })
            .collect();
        let _ = writeln!(
            out,
            "  {:>3}/{:<3} {marks:<14} {}{}",
            lesson.earned(),
            lesson.max(),
            lesson.title,
            if lesson.missing { "  没有提交" } else { "" }
        );
    }
    for lesson in student.lessons() {
        if let Some(error) = &lesson.compile_error {
            let _ = write!(out, "\n{} 编译失败:\n{error}\n", lesson.title);
        }
        for message in lesson.checks.iter().filter_map(|c| c.message.as_deref()) {
            let _ = write!(out, "\n────────\n\n{message}\n");
        }
    }
    out
}

#[derive(clap::Args)]
pub struct MergeArgs {
    /// 各台机器的输出目录(里面有 report.json)
    #[arg(required = true)]
    parts: Vec<PathBuf>,
    /// 合并后的输出目录
    #[arg(long, default_value = "grades")]
    out: PathBuf,
}

/// `course grade merge`:把几份 report.json 合成一份成绩册。
pub fn merge(_repo: &Repo, args: &MergeArgs) -> Result<ExitCode> {
    let mut merged: Option<Book> = None;
    for part in &args.parts {
        let file = if part.is_dir() {
            part.join("report.json")
        } else {
            part.clone()
        };
        let text =
            fs::read_to_string(&file).with_context(|| format!("读不到 {}", file.display()))?;
        let value: Value =
            serde_json::from_str(&text).with_context(|| format!("{} 不是 JSON", file.display()))?;
        let book = Book::from_json(&value).with_context(|| format!("看不懂 {}", file.display()))?;
        merged = Some(match merged {
            None => book,
            Some(mut all) => {
                if all.points != book.points
                    || all
                        .lessons
                        .iter()
                        .map(|l| l.number)
                        .ne(book.lessons.iter().map(|l| l.number))
                {
                    bail!("{} 评的课或分值和前面几份不一样,不能合并", file.display());
                }
                all.students.extend(book.students);
                all.sandboxes.extend(book.sandboxes);
                all
            }
        });
        // 每个人的反馈也一起带过来(它比 report.json 里的一句话原因详细)。
        let feedback = file.parent().unwrap_or(Path::new(".")).join("feedback");
        if feedback.is_dir() {
            fs::create_dir_all(args.out.join("feedback"))?;
            for entry in fs::read_dir(&feedback)?.flatten() {
                fs::copy(
                    entry.path(),
                    args.out.join("feedback").join(entry.file_name()),
                )?;
            }
        }
    }
    let Some(mut book) = merged else {
        bail!("没有要合并的报告");
    };
    book.students.sort_by(|a, b| a.name.cmp(&b.name));
    let twice: Vec<&str> = book
        .students
        .windows(2)
        .filter(|w| w[0].name == w[1].name)
        .map(|w| w[0].name.as_str())
        .collect();
    if !twice.is_empty() {
        bail!(
            "这些学员在不止一份报告里:{}(--shard 写错了?)",
            twice.join("、")
        );
    }
    // 反馈已经从各份里复制过来了;report.json 里没有完整诊断,不能重写它们。
    fs::create_dir_all(&args.out)?;
    fs::write(args.out.join("gradebook.csv"), book.csv())?;
    fs::write(
        args.out.join("report.json"),
        serde_json::to_string_pretty(&book.to_json())? + "\n",
    )?;
    let items = analysis::analyse(&book);
    fs::write(args.out.join("report.html"), html::render(&book, &items))?;
    analysis::print(&book, &items);
    say!(
        "\n合并了 {} 份报告,共 {} 人:{}",
        args.parts.len(),
        book.students.len(),
        args.out.join("gradebook.csv").display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 一个学员:第 1 课前两项通过,第三项失败;其余的课没交。
    fn student(name: &str, failed_headline: &str) -> Student {
        let lesson = harness::lesson("01").unwrap();
        let checks = lesson
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| CheckGrade {
                number: i + 1,
                name: step.name,
                max: step.points,
                status: match i {
                    0 | 1 => "passed",
                    2 => "failed",
                    _ => "not_run",
                },
                headline: (i == 2).then(|| failed_headline.to_owned()),
                message: (i == 2).then(|| format!("诊断:{failed_headline}")),
            })
            .collect();
        let grade = SubmissionGrade {
            lessons: vec![LessonGrade {
                number: lesson.number,
                title: "第 1 课 · UDP 服务器".to_owned(),
                compile_error: None,
                missing: false,
                checks,
            }],
            sandbox: "bubblewrap",
            ..SubmissionGrade::default()
        };
        Student::graded(name, grade)
    }

    fn book(students: Vec<Student>) -> Book {
        let lesson = harness::lesson("01").unwrap();
        Book {
            lessons: vec![lesson],
            points: vec![lesson.steps.iter().map(|s| s.points).collect()],
            students,
            sandboxes: BTreeSet::from(["bubblewrap".to_owned()]),
            shard: None,
        }
    }

    #[test]
    fn a_student_survives_the_round_trip_through_json() {
        let before = student("张三, \"三\"", "回复发错了地址");
        let after = Student::from_json(&before.to_json(true)).unwrap();
        assert_eq!(after.to_json(true), before.to_json(true));
        assert_eq!(after.earned(), 4);
        let brief = before.to_json(false);
        assert!(brief["lessons"][0]["checks"][2].get("message").is_none());
    }

    #[test]
    fn the_gradebook_has_one_quoted_row_per_student() {
        let mut students = vec![student("张三, \"三\"", "x")];
        students.push(Student::unreadable("李四", "不是 zip 文件".to_owned()));
        let book = book(students);
        let max = book.max();
        let csv = book.csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "student,status,01,total,max,note");
        assert_eq!(lines[1], format!("\"张三, \"\"三\"\"\",graded,4,4,{max},"));
        assert_eq!(lines[2], format!("李四,unreadable,,,{max},不是 zip 文件"));
    }

    #[test]
    fn item_analysis_counts_pass_rates_stops_and_the_commonest_failure() {
        let book = book(vec![
            student("a", "回复发错了地址"),
            student("b", "回复发错了地址"),
            student("c", "回复被截断了"),
        ]);
        let items = analysis::analyse(&book);
        let third = &items[0].items[2];
        assert_eq!((third.passed, third.total, third.stopped), (0, 3, 3));
        assert_eq!(third.top_failure, Some(("回复发错了地址".to_owned(), 2)));
        assert_eq!(items[0].items[0].passed, 3);
        let html = html::render(&book, &items);
        assert_eq!(html.matches("<svg class=\"chart\"").count(), 1);
        assert!(html.contains("回复发错了地址(2 人)"));
    }
}
