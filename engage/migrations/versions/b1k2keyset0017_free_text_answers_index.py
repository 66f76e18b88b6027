"""free-text answers with words in them, by question, newest first (keyset pages)

Revision ID: b1k2keyset0017
Revises: a9t4relate0016
Create Date: 2026-12-06 22:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1k2keyset0017'
down_revision = 'a9t4relate0016'
branch_labels = None
depends_on = None

#: The same text as engage.surveys.models.HAS_WORDS_SQL when this was written: the
#: databases use a partial index only for queries that say the same.
HAS_WORDS_SQL = "text IS NOT NULL AND trim(text, ' \t\r\n') != ''"


def upgrade():
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.create_index(
            'ix_survey_answers_question_words',
            ['question_id', 'response_id'],
            unique=False,
            sqlite_where=sa.text(HAS_WORDS_SQL),
            postgresql_where=sa.text(HAS_WORDS_SQL),
        )


def downgrade():
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_answers_question_words')
