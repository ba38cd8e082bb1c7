//! `course grade merge`:把几台机器各评的一份(`--shard K/N` 的输出目录)合成一份成绩册。

use clap_zh::say;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::gradebook::Book;
use super::{analysis, html};
use crate::repo::Repo;

#[derive(clap::Args)]
pub struct MergeArgs {
    /// 各台机器的输出目录(里面有 report.json)
    #[arg(required = true)]
    parts: Vec<PathBuf>,
    /// 合并后的输出目录(默认 grades/)
    #[arg(long, default_value = "grades", hide_default_value = true)]
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
    let twice = super::intake::named_twice(book.students.iter().map(|s| s.name.as_str()));
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
