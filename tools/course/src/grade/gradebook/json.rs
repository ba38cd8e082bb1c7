//! `report.json` 里的一个学员、一份成绩册:写成 JSON,再读回来(缓存、`course grade merge`)。

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::{Book, Status, Student};
use crate::grade::{CheckGrade, LessonGrade, SubmissionGrade, Tampered};

impl Student {
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

impl Book {
    pub(in crate::grade) fn to_json(&self) -> Value {
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

    pub(in crate::grade) fn from_json(value: &Value) -> Result<Book> {
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
}
