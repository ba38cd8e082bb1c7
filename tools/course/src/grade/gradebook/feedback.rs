//! 给每个学员的反馈(`feedback/学员.txt`):每一课的分数,每个没通过的检查的完整诊断。

use std::fmt::Write as _;

use super::Student;

/// 学员的名字做文件名:去掉路径分隔符之类的字符。
pub(super) fn file_name(name: &str) -> String {
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
            .map(|c| crate::grade::report::mark(c.status))
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
