//! 全班的成绩:每个学员的状态和分数,写成 `gradebook.csv`(一人一行)、`report.json`
//! (每个人的每一项检查,见 [`json`])、`report.html`(逐项分析)和 `feedback/学员.txt`
//! (可以发给学员的诊断,见 [`feedback`])。几台机器各评的一份怎样合成一份,见 [`super::merge`]。

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use super::report::csv_field;
use super::{LessonGrade, SubmissionGrade, analysis, html};

mod feedback;
mod json;

use feedback::{feedback, file_name};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::CheckGrade;

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
