"""note withdrawal: a note's agency can withdraw it; its text is destroyed and a trace of it stays

Revision ID: 0014_note_withdrawal
Revises: 0013_closure_hash_scope
Create Date: 2026-12-01 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_note_withdrawal'
down_revision = '0013_closure_hash_scope'
branch_labels = None
depends_on = None


def upgrade():
    # plain ADD COLUMN, not a batch: rebuilding the table on SQLite would drop the access epoch's triggers
    op.add_column('notes', sa.Column('withdrawn_at', sa.DateTime(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with a reference (it is NULL in every row) but cannot add the constraint apart
        op.execute("ALTER TABLE notes ADD COLUMN withdrawn_by_id INTEGER REFERENCES users (id)")
    else:
        op.add_column('notes', sa.Column('withdrawn_by_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_notes_withdrawn_by_id_users'), 'notes', 'users', ['withdrawn_by_id'], ['id'])
    op.add_column('notes', sa.Column('withdraw_reason', sa.String(length=32), nullable=True))


def downgrade():
    # plain DROP COLUMN (SQLite 3.35 and later); the foreign key goes with its column there
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f('fk_notes_withdrawn_by_id_users'), 'notes', type_='foreignkey')
    op.drop_column('notes', 'withdraw_reason')
    op.drop_column('notes', 'withdrawn_by_id')
    op.drop_column('notes', 'withdrawn_at')
