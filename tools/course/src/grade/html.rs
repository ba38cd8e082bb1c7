//! 逐项分析的网页 `report.html`:一个文件,不连任何网站(没有 CDN、没有脚本),
//! 每一课一张柱状图(每一项检查的通过率),下面是表格,最后是全班的成绩。
//! 柱状图是内嵌的 SVG:每一项都有一根浅灰色的「满格」底柱,所以即使全班都没通过,图也不是空白的。

use std::fmt::Write as _;

use super::analysis::LessonItems;
use super::gradebook::Book;

/// 图的尺寸(SVG 的坐标)。
const BAR: f64 = 44.0;
const GAP: f64 = 16.0;
const HEIGHT: f64 = 180.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 28.0;
const LEFT: f64 = 40.0;

pub(super) fn render(book: &Book, lessons: &[LessonItems]) -> String {
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<h1>全班评分报告</h1>\n<p class=\"meta\">{} 人 · 满分 {} · 沙箱:{}{}</p>",
        book.students.len(),
        book.max(),
        escape(
            &book
                .sandboxes
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join("、")
        ),
        book.shard
            .map(|(k, n)| format!(" · 第 {k} 份(共 {n} 份)"))
            .unwrap_or_default()
    );
    for lesson in lessons {
        let _ = writeln!(
            body,
            "<section class=\"lesson\" id=\"lesson-{}\">\n<h2>{}</h2>\n<p class=\"meta\">{} 人;没交 {} 人,编译失败 {} 人</p>",
            lesson.number,
            escape(&lesson.title),
            lesson.students,
            lesson.not_submitted,
            lesson.not_compiled
        );
        body.push_str(&chart(lesson));
        body.push_str("<table><thead><tr><th>项</th><th>检查</th><th>通过率</th><th>停在这里</th><th>最常见的失败原因</th></tr></thead><tbody>\n");
        for item in &lesson.items {
            let top = item
                .top_failure
                .as_ref()
                .map(|(h, n)| format!("{}({n} 人)", escape(h)))
                .unwrap_or_default();
            let _ = writeln!(
                body,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.0}%({}/{})</td><td class=\"num\">{}</td><td>{top}</td></tr>",
                item.number,
                escape(item.name),
                item.rate() * 100.0,
                item.passed,
                item.total,
                item.stopped
            );
        }
        body.push_str("</tbody></table>\n</section>\n");
    }

    body.push_str(
        "<section id=\"students\"><h2>全班成绩</h2><table><thead><tr><th>学员</th><th>状态</th>",
    );
    for lesson in &book.lessons {
        let _ = write!(body, "<th>第 {} 课</th>", lesson.display_number());
    }
    body.push_str("<th>总分</th><th>说明</th></tr></thead><tbody>\n");
    for student in &book.students {
        let _ = write!(
            body,
            "<tr class=\"{}\"><td>{}</td><td>{}</td>",
            student.status.key(),
            escape(&student.name),
            student.status.words()
        );
        for lesson in &book.lessons {
            let earned = student
                .lessons()
                .iter()
                .find(|l| l.number == lesson.number)
                .map(|l| l.earned().to_string())
                .unwrap_or_default();
            let _ = write!(body, "<td class=\"num\">{earned}</td>");
        }
        let total = if student.grade.is_some() {
            format!("{}/{}", student.earned(), book.max())
        } else {
            String::new()
        };
        let _ = writeln!(
            body,
            "<td class=\"num\">{total}</td><td>{}</td></tr>",
            escape(&student.note)
        );
    }
    body.push_str("</tbody></table></section>\n");

    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>全班评分报告</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )
}

/// 一课的柱状图:每一项一根柱子,高度是通过率。
fn chart(lesson: &LessonItems) -> String {
    let n = lesson.items.len() as f64;
    let width = LEFT + n * (BAR + GAP) + GAP;
    let total = TOP + HEIGHT + BOTTOM;
    let mut svg = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{} 每一项的通过率\" viewBox=\"0 0 {width} {total}\" width=\"{width}\" height=\"{total}\">\n",
        escape(&lesson.title)
    );
    // 纵轴:0%、50%、100% 三条参考线。
    for pct in [0.0, 0.5, 1.0] {
        let y = TOP + HEIGHT * (1.0 - pct);
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{width}\" y1=\"{y}\" y2=\"{y}\" class=\"grid\"/><text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"end\">{:.0}%</text>",
            LEFT - 6.0,
            y + 4.0,
            pct * 100.0
        );
    }
    for (i, item) in lesson.items.iter().enumerate() {
        let x = LEFT + GAP + i as f64 * (BAR + GAP);
        let h = HEIGHT * item.rate();
        let _ = writeln!(
            svg,
            "<rect class=\"track\" x=\"{x}\" y=\"{TOP}\" width=\"{BAR}\" height=\"{HEIGHT}\"/>\
             <rect class=\"bar\" x=\"{x}\" y=\"{}\" width=\"{BAR}\" height=\"{h}\"><title>第 {} 项 {}:{:.0}%</title></rect>\
             <text x=\"{}\" y=\"{}\" class=\"value\" text-anchor=\"middle\">{:.0}%</text>\
             <text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">{}</text>",
            TOP + HEIGHT - h,
            item.number,
            escape(item.name),
            item.rate() * 100.0,
            x + BAR / 2.0,
            TOP - 6.0,
            item.rate() * 100.0,
            x + BAR / 2.0,
            TOP + HEIGHT + 18.0,
            item.number
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "
body { font-family: 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
.meta { color: #666; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; width: 100%; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; white-space: nowrap; }
svg.chart { display: block; margin: 0.5rem 0; }
svg.chart .track { fill: #e8e8e8; } svg.chart .bar { fill: #2e7d32; }
svg.chart .grid { stroke: #ccc; stroke-width: 1; }
svg.chart text { font-size: 12px; fill: #444; } svg.chart .value { font-weight: bold; }
tr.contained td { background: #fdecea; } tr.build_failed td, tr.timed_out td { background: #fff8e1; }
tr.unreadable td, tr.error td { background: #eeeeee; }
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
